"""Check that an existing Python has the packages the project needs (FTB_PYTHON).

``python -m ftbench.requirements [--dev]``, run by scripts/setup.sh (with --dev by
scripts/run_tests.sh) under the interpreter to check, so that importlib.metadata
sees that interpreter's packages; ftbench itself comes from python/src through
PYTHONPATH (scripts/python.sh). The packages needed are python/pyproject.toml's
dependencies (with --dev also its "dev" extra), at the versions they allow,
except torch: pyproject.toml pins it exactly for the project's venv (a range
there lets pip pull a multi-GB CUDA build), while an existing interpreter may
hold any torch 2 (CMake asks for Torch 2.0), a CUDA build included. Versions
that differ from python/requirements.txt's pins are named in a note: results then
come from other versions (every results file records them).

Exit status: 0 when nothing is missing; 1 with one line naming every missing or
too old package and how to add it. Uses the standard library, plus ``packaging``
(which matplotlib needs) for the version ranges when it is there; imports
nothing of ftbench.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

PYTHON = Path(__file__).resolve().parents[2]
"""The python/ directory of the source tree: pyproject.toml and requirements.txt."""
EXISTING_TORCH = "torch>=2.0"
"""What an existing interpreter's torch must satisfy, instead of pyproject's pin."""


def requirement_name(requirement: str) -> str:
    """The distribution name of a requirement string ("numpy>=2.0" -> "numpy").

    Raises:
        ValueError: the string does not start with a distribution name.
    """
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
    if match is None:
        raise ValueError(f"not a requirement: {requirement!r}")
    return match.group(0)


def satisfies(requirement: str, version: str) -> bool:
    """Whether ``version`` is in the range of ``requirement`` ("numpy>=2.0");
    True when ``packaging`` is not installed (nothing to compare with)."""
    try:
        from packaging.requirements import Requirement
    except ImportError:
        return True
    return Requirement(requirement).specifier.contains(version, prereleases=True)


def read_pins(path: Path) -> dict[str, str]:
    """``name==version`` lines of a requirements file, by lower-case name."""
    lines = (raw.split("#")[0].strip() for raw in path.read_text().splitlines())
    pairs = (line.split("==", 1) for line in lines if "==" in line)
    return {name.strip().lower(): version.strip() for name, version in pairs}


def main(argv: list[str] | None = None) -> int:
    """Print what is missing (one line on standard error, exit 1) and what differs
    from the pins (a note on standard output)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dev", action="store_true", help="also the test tools (dev extra)")
    parser.add_argument("--pyproject", type=Path, default=PYTHON / "pyproject.toml")
    parser.add_argument("--requirements", type=Path, default=PYTHON / "requirements.txt")
    args = parser.parse_args(argv)
    project = tomllib.loads(args.pyproject.read_text())["project"]
    needed = list(project["dependencies"])
    if args.dev:
        needed += project["optional-dependencies"]["dev"]
    needed = [EXISTING_TORCH if requirement_name(r) == "torch" else r for r in needed]
    pins = read_pins(args.requirements)
    missing, differing = [], []
    for requirement in needed:
        name = requirement_name(requirement)
        try:
            found = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(requirement)
            continue
        if not satisfies(requirement, found):
            missing.append(f"{requirement} (found {found})")
        elif pins.get(name.lower(), found) != found:
            differing.append(f"{name} {found} (pinned {pins[name.lower()]})")
    if differing:
        print(
            f"setup: note: {sys.executable} has {', '.join(differing)}; "
            "the results record the versions used"
        )
    if missing:
        print(
            f"setup: missing Python packages in {sys.executable}: {', '.join(missing)}. "
            "Install them into that interpreter (pip; torch: the build for your machine; "
            "without a network, as wheels downloaded elsewhere), or unset FTB_PYTHON "
            "to use the project's pinned .venv",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
