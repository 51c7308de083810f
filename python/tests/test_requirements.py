"""Running with an existing Python instead of the pinned venv (FTB_PYTHON, issue 18
item 1): ftbench.requirements names what that interpreter lacks, and
scripts/setup.sh stops on it before building anything."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from conftest import REPO, run
from ftbench import requirements


def test_the_interpreter_running_the_tests_has_every_package() -> None:
    """The tests' own interpreter (the venv, or FTB_PYTHON's) passes the check that
    scripts/run_tests.sh makes, test tools included."""
    checked = run([sys.executable, "-m", "ftbench.requirements", "--dev"])
    assert checked.returncode == 0, checked.stderr
    assert checked.stderr == ""


def test_missing_packages_are_named_in_one_line() -> None:
    """Without its site-packages (-S) the interpreter has none of the packages: one
    line names them all (torch by the range an existing interpreter needs, not the
    venv's pin) and says how to go on; exit 1."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "python" / "src")}
    checked = run([sys.executable, "-S", "-m", "ftbench.requirements"], env=env)
    assert checked.returncode == 1
    [line] = checked.stderr.splitlines()
    assert line.startswith(f"setup: missing Python packages in {sys.executable}: torch>=2.0, ")
    assert "numpy>=2.0" in line and "unset FTB_PYTHON" in line


def test_versions_outside_the_range_and_off_the_pins(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A package below its range counts as missing, with the version found; one that
    differs from its pin is named in a note; torch's exact pin is replaced by
    torch>=2.0."""
    import numpy
    import tqdm

    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        '[project]\ndependencies = ["torch==0.1", "numpy>=999", "tqdm>=1"]\n'
        '[project.optional-dependencies]\ndev = ["no-such-package-here>=1"]\n'
    )
    pins = tmp_path / "requirements.txt"
    pins.write_text("# pins\ntqdm==0.0.1  # old\nnumpy==1.0\n")
    arguments = ["--pyproject", str(pyproject), "--requirements", str(pins)]
    assert requirements.main(arguments) == 1
    out, err = capsys.readouterr()
    assert out == f"setup: note: {sys.executable} has tqdm {tqdm.__version__} (pinned 0.0.1); " + (
        "the results record the versions used\n"
    )
    assert f": numpy>=999 (found {numpy.__version__}). Install" in err
    assert "torch>=" not in err and "torch==" not in err
    assert requirements.main([*arguments, "--dev"]) == 1
    assert "no-such-package-here>=1" in capsys.readouterr().err


def test_requirement_name() -> None:
    """The distribution name ends where the version range starts."""
    assert requirements.requirement_name("tqdm>=4.66") == "tqdm"
    assert requirements.requirement_name("jsonschema-specifications==2025.9.1") == (
        "jsonschema-specifications"
    )
    with pytest.raises(ValueError, match="not a requirement"):
        requirements.requirement_name(">=1")


def test_setup_stops_on_an_existing_python_without_the_packages(tmp_path: Path) -> None:
    """FTB_PYTHON naming an interpreter that lacks the packages (here: without its
    site-packages): scripts/setup.sh says which, exit 1, before it configures or
    builds anything and without making a venv; a name that is no interpreter is
    refused in one line."""
    bare = tmp_path / "bare-python"
    bare.write_text(f'#!/bin/sh\nexec "{sys.executable}" -S "$@"\n')
    bare.chmod(0o755)
    build = tmp_path / "build"
    env = {**os.environ, "FTB_PYTHON": str(bare), "FTB_BUILD_DIR": str(build)}
    setup = run([REPO / "scripts" / "setup.sh"], env=env)
    assert setup.returncode == 1
    assert f"setup: using FTB_PYTHON={bare} and the packages in it (no venv)" in setup.stdout
    assert f"setup: missing Python packages in {sys.executable}: torch>=2.0, " in setup.stderr
    assert not build.exists()

    env["FTB_PYTHON"] = str(tmp_path / "nowhere" / "python")
    setup = run([REPO / "scripts" / "setup.sh"], env=env)
    assert setup.returncode == 1
    assert setup.stderr == f"FTB_PYTHON={env['FTB_PYTHON']}: no such interpreter " + (
        "(give the path of a python >= 3.11)\n"
    )
