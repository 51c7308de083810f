"""Shared fixtures: the build tree, the Fortran test programs and small TorchScript models.

The Fortran programs and drivers come from the CMake build that
scripts/run_tests.sh makes first (build/, or $FTB_BUILD_DIR).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import torch
from torch import nn

from ftbench.export import export_all, set_package_metadata
from ftbench.inputs import write_inputs
from ftbench.models import wavenet

# The repository root: the nearest parent holding the top CMakeLists.txt (tests also run from
# copies of python/, such as mutmut's python/mutants/).
REPO = next(p for p in Path(__file__).resolve().parents if (p / "CMakeLists.txt").is_file())


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that needs the CMake build or the exported models as ``build``;
    the others are fast, in-process tests of ftbench (``-m "not build"``, as the
    mutation run scripts/mutation.sh uses)."""
    for item in items:
        if {"build_dir", "model_dir"} & set(item.fixturenames):
            item.add_marker(pytest.mark.build)


@pytest.fixture(scope="session")
def native_results(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A real results document, quick to make without the build: the native Python
    baseline of large_stride (N = 4, 3 iterations, eager model)."""
    from ftbench.cli import main
    from ftbench.results import load

    path = tmp_path_factory.mktemp("native") / "r.json"
    args = ["native", "large_stride", "3", "--n", "4", "--mode", "eager", "--quiet"]
    assert main([*args, "--json", str(path)]) == 0
    return load(path).data


@pytest.fixture(scope="session")
def build_dir() -> Path:
    """The CMake build tree holding bin/ and tests/."""
    path = Path(os.environ.get("FTB_BUILD_DIR", REPO / "build"))
    if not (path / "bin").is_dir():
        pytest.fail(f"no build in {path}: run scripts/run_tests.sh (it builds first)")
    return path


def run(
    command: list[str | Path], timeout: float = 600, **kwargs: object
) -> subprocess.CompletedProcess[str]:
    """Run a program, capturing text output, with a generous timeout (s)."""
    return subprocess.run(
        [str(c) for c in command], capture_output=True, text=True, timeout=timeout, **kwargs
    )


SOAK_CALLS = 100_000
"""Calls per path in the soak tests (issue 13, docs/reliability.md): a few seconds each."""


def soak_samples(output: str) -> list[dict[str, int]]:
    """The samples a soak printed, one per line "after <calls>: key=value ..."
    (test_support's process_sample, or process_sample below)."""
    return [
        {"calls": int(calls), **{k: int(v) for k, v in (f.split("=") for f in fields.split())}}
        for calls, fields in re.findall(r"^after (\d+): (.*)$", output, re.MULTILINE)
    ]


def process_sample(calls: int) -> str:
    """This process's sample in the soak format: resident memory, open file
    descriptors and threads, from /proc/self."""
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    rss_kb = int(status["VmRSS"].split()[0])
    return (
        f"after {calls}: rss_kb={rss_kb} fds={len(os.listdir('/proc/self/fd')) - 1}"
        f" threads={int(status['Threads'])}"
    )


def assert_soak_bounded(samples: list[dict[str, int]], calls: int, rss_kb: int) -> None:
    """The soak's bound: ten samples up to ``calls``; from the first (after a tenth
    of the calls, the warm-up) to the last, resident memory grows less than
    ``rss_kb``, the open descriptors and threads stay the same, and where sampled
    Python's allocated blocks grow by fewer than 100 and its gc-tracked objects by
    fewer than 10."""
    assert [s["calls"] for s in samples] == [calls * k // 10 for k in range(1, 11)], samples
    first, last = samples[0], samples[-1]
    grew = last["rss_kb"] - first["rss_kb"]
    assert grew < rss_kb, f"resident memory grew by {grew} kB: {samples}"
    for key in ("fds", "threads"):
        assert {s[key] for s in samples} == {first[key]}, f"{key} changed: {samples}"
    if "blocks" in first:
        assert last["blocks"] - first["blocks"] < 100, f"Python blocks grew: {samples}"
        assert last["objects"] - first["objects"] < 10, f"Python objects grew: {samples}"


class IndexProbe(nn.Module):
    """Returns y[i, j] = 10 * i + j for an input of any 2-D shape (ignores its values)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows = torch.arange(x.shape[0], dtype=x.dtype).unsqueeze(1)
        cols = torch.arange(x.shape[1], dtype=x.dtype).unsqueeze(0)
        return 10 * rows + cols + 0 * x


class TwoInTwoOut(nn.Module):
    """forward(a, b) -> (a + b, a * b)."""

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return a + b, a * b


class MatMulFloat32(nn.Module):
    """torch.mm(x, w) with a float32 (4, 2) weight: rejects other dtypes, ranks and widths."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.ones(4, 2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.mm(x, self.w)


class NaNOutput(nn.Module):
    """Returns NaN everywhere: a model whose output must fail every check."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * float("nan")


class TrainMLP(nn.Module):
    """float64 3 -> 4 -> 2 with tanh and seeded weights: training through the layers
    (test_training.py); ``frozen`` freezes every parameter."""

    def __init__(self, frozen: bool = False) -> None:
        super().__init__()
        self.hidden = nn.Linear(3, 4, dtype=torch.float64)
        self.out = nn.Linear(4, 2, dtype=torch.float64)
        generator = torch.Generator().manual_seed(7)
        with torch.no_grad():
            for parameter in self.parameters():
                parameter.copy_(
                    torch.randn(parameter.shape, generator=generator, dtype=torch.float64)
                )
                parameter.requires_grad_(not frozen)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(torch.tanh(self.hidden(x)))


class Raises(nn.Module):
    """Always raises, as a model with a failed internal check would."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.numel() > 0:
            raise ValueError("model-internal check failed: input out of range")
        return x


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with the test models and the project's exported models."""
    directory = tmp_path_factory.mktemp("models")
    for name, module in {
        "index_probe.pt": IndexProbe(),
        "two_in_two_out.pt": TwoInTwoOut(),
        "mm_float32.pt": MatMulFloat32(),
        "raises.pt": Raises(),
        "train_mlp.pt": TrainMLP(),
        "frozen_mlp.pt": TrainMLP(frozen=True),
        "nan_output.pt": NaNOutput(),
    }.items():
        torch.jit.save(torch.jit.script(module.eval()), str(directory / name))
    (directory / "corrupt.pt").write_bytes(b"this is not a TorchScript archive\n")
    checkpoint = directory / "wavenet_checkpoint.pt"
    wavenet.save_checkpoint(wavenet.synthetic_checkpoint(), checkpoint)
    export_all(directory, checkpoint)
    # References made on 1 thread, as most tests run the drivers: outputs then equal
    # them exactly; the 2-thread references check that runs on another thread
    # count stay within the tolerance (test_checks.py).
    write_inputs(directory / "data" / "cgdrag_t42", checkpoint, threads=1)
    write_inputs(directory / "data" / "cgdrag_t42_2threads", checkpoint, threads=2)
    # AOTInductor packages the coupling layers must refuse to load.
    package = directory / "large_stride_vectorized_cpu.pt2"
    metadata = json.loads(
        torch._C._aoti.AOTIModelPackageLoader.load_metadata_from_package(str(package), "model")[
            "ftbench"
        ]
    )
    for name, text in {
        "other_torch.pt2": json.dumps({**metadata, "torch_version": "2.12.0+cpu"}),
        "no_signature.pt2": "{}",
    }.items():
        shutil.copy(package, directory / name)
        set_package_metadata(directory / name, text)
    # An emulator module whose compute raises (an exception inside the timed loop).
    (directory / "raising_emulator.py").write_text(
        "import torch\n"
        "def initialize(variant):\n"
        "    return torch.nn.Identity()\n"
        "def metadata(model):\n"
        "    return '{}'\n"
        "def compute(model, x, y):\n"
        "    raise ArithmeticError('compute failed inside the model')\n"
    )
    for emulator in (REPO / "models").glob("*.py"):  # the embedded path's Python modules
        shutil.copy(emulator, directory)
    return directory
