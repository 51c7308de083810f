"""The MPI drivers (fortran/mpi/): latitude bands on 1 to 3 ranks give exactly the serial
drivers' output, a failure on one rank ends every rank with that rank's message, and the
MPI suite and its report section. Skipped where the build has no MPI drivers (CMake did
not find MPI) or mpirun is missing."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import run
from ftbench.cli import main
from ftbench.report import write_report
from ftbench.results import Result, load, load_archive
from ftbench.suite import MPI_AS_ROOT, Run, mpi_placement, mpi_rank_counts, mpi_suite, run_suite

DRIVERS = {
    "direct": ("benchmarker_cgdrag_torch", ["cgdrag_cpu.pt"]),
    "embedded": ("benchmarker_cgdrag_forpy", ["cgdrag_emulator", "--torchscript", "none"]),
}
TIMEOUT = 180  # s: a rank left waiting would hang the test without it


@pytest.fixture(scope="module")
def mpi_build(build_dir: Path) -> Path:
    """The build, skipping the module when it has no MPI drivers."""
    if not (build_dir / "bin" / "benchmarker_cgdrag_torch_mpi").exists():
        pytest.skip("no MPI drivers in the build (CMake found no MPI with mpi_f08)")
    if shutil.which("mpirun") is None:
        pytest.skip("mpirun not found")
    return build_dir


def mpirun(*groups: list[object]) -> list[object]:
    """``mpirun`` with one ``-np 1 <command>`` per group (MPMD: rank k runs group k), or one
    group given as ``[ranks, command...]`` for ``-np ranks``; unbound, oversubscribed when
    there are more ranks than cores."""
    command: list[object] = ["mpirun", "--bind-to", "none", "--oversubscribe"]
    for k, group in enumerate(groups):
        command += ([":"] if k else []) + ["-np", *group]
    return command


def mpi_env() -> dict[str, str]:
    return {**os.environ, **MPI_AS_ROOT, "OMP_NUM_THREADS": "1"}


def read_drag(path: Path) -> dict[str, np.ndarray]:
    """The drag a driver's --output wrote into the directory ``path``."""
    return {name: np.load(path / f"{name}.npy") for name in ("gwfu", "gwfv")}


@pytest.mark.parametrize(
    ("path", "ranks"), [("direct", 1), ("direct", 2), ("direct", 3), ("embedded", 2)]
)
def test_ranks_give_exactly_the_serial_output(
    mpi_build: Path, model_dir: Path, tmp_path: Path, path: str, ranks: int
) -> None:
    """640 columns = 5 latitude rows: 2 ranks split them 3 + 2, 3 ranks 2 + 2 + 1. Every
    rank reads and checks only its band; the bands gathered on rank 0 equal the serial
    driver's whole output bit for bit (columns do not interact in WaveNet-2, and each
    rank runs 1 thread, as the serial run does)."""
    driver, model = DRIVERS[path]
    common = [model_dir, *model, 2, "--threads", 1, "--columns", 640, "--quiet"]
    (tmp_path / "serial").mkdir()
    (tmp_path / "mpi").mkdir()
    serial = run([mpi_build / "bin" / driver, *common, "--output", tmp_path / "serial"])
    assert serial.returncode == 0, serial.stdout + serial.stderr
    results = tmp_path / "mpi.json"
    out = run(
        mpirun([ranks, mpi_build / "bin" / f"{driver}_mpi", *common])
        + ["--output", tmp_path / "mpi", "--json", results],
        env=mpi_env(),
        timeout=TIMEOUT,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    expected, actual = read_drag(tmp_path / "serial"), read_drag(tmp_path / "mpi")
    for name in expected:
        assert actual[name].shape == (128, 5, 40) and actual[name].flags.f_contiguous
        assert np.array_equal(actual[name], expected[name]), name
    data = load(results).data
    mpi = data["mpi"]
    rows = {1: [5], 2: [3, 2], 3: [2, 2, 1]}[ranks]
    assert mpi["ranks"] == ranks and mpi["columns_per_rank"] == [128 * r for r in rows]
    assert mpi["threads_per_rank"] == [1] * ranks and len(mpi["cpus_per_rank"]) == ranks
    assert data["sizes"]["columns"] == 640 and data["correctness"]["passed"]
    loop = mpi["phases"]["loop"]
    assert len(loop["per_rank_median"]) == ranks and loop["max"] >= loop["mean"] >= loop["min"]
    assert loop["imbalance"] == pytest.approx(loop["max"] / loop["mean"])
    # the step time is the slowest rank's: no rank's median exceeds the median of the maxima
    assert max(loop["per_rank_median"]) <= data["phases"]["loop"]["statistics"]["max"]
    parts = {"model load", "start-up to first step"}
    if path == "embedded":
        parts |= {"interpreter start", "imports"}
    assert parts <= set(mpi["once"]) and parts <= set(data["once"])
    for name in parts:
        assert len(mpi["once"][name]["per_rank"]) == ranks
    ready = mpi["once"]["start-up to first step"]["per_rank"]
    assert all(r >= m for r, m in zip(ready, mpi["once"]["model load"]["per_rank"], strict=True))


@pytest.mark.parametrize(
    ("path", "rank1", "message"),
    [
        # rank 1 cannot load its model (missing file)
        (
            "direct",
            ["no_such_model.pt"],
            "rank 1 of 2: torch_model_load: cannot load TorchScript model",
        ),
        # a Python exception on rank 1 (initialize on a missing checkpoint)
        (
            "embedded",
            ["cgdrag_emulator", "--torchscript", "none", "--checkpoint", "missing.pt"],
            "rank 1 of 2: py_call: calling 'initialize' of module 'cgdrag_emulator' failed",
        ),
        # a failure in the first step on rank 1 while rank 0 goes on to the next barrier
        ("direct", ["mm_float32.pt"], "rank 1 of 2: torch_model_forward: forward of "),
    ],
)
def test_a_failure_on_one_rank_ends_every_rank(
    mpi_build: Path, model_dir: Path, tmp_path: Path, path: str, rank1: list[str], message: str
) -> None:
    driver, model = DRIVERS[path]
    program = mpi_build / "bin" / f"{driver}_mpi"
    tail = [3, "--threads", 1, "--columns", 256, "--json", tmp_path / "r.json"]
    out = run(
        mpirun([1, program, model_dir, *model, *tail], [1, program, model_dir, *rank1, *tail]),
        env=mpi_env(),
        timeout=TIMEOUT,
    )
    assert out.returncode != 0
    assert message in out.stderr, out.stderr
    assert not (tmp_path / "r.json").exists()


def test_too_few_rows_for_the_ranks(mpi_build: Path, model_dir: Path, tmp_path: Path) -> None:
    program = mpi_build / "bin" / "benchmarker_cgdrag_torch_mpi"
    out = run(
        mpirun([2, program, model_dir, "cgdrag_cpu.pt", 1, "--columns", 128]),
        env=mpi_env(),
        timeout=TIMEOUT,
    )
    assert out.returncode != 0
    assert "cgdrag: --columns 128 gives 1 latitude rows, fewer than the 2 ranks" in out.stderr


def test_oversubscription_is_warned_and_recorded(
    mpi_build: Path, model_dir: Path, tmp_path: Path
) -> None:
    threads = len(os.sched_getaffinity(0))  # 2 ranks x all the cores each: too many threads
    results = tmp_path / "r.json"
    program = mpi_build / "bin" / "benchmarker_cgdrag_torch_mpi"
    out = run(
        mpirun([2, program, model_dir, "cgdrag_cpu.pt", 1, "--columns", 256, "--quiet"])
        + ["--threads", threads, "--json", results],
        env=mpi_env(),
        timeout=TIMEOUT,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "warning: oversubscribed: 2 rank(s) x " in out.stderr
    mpi = load(results).data["mpi"]
    assert mpi["oversubscribed"] and mpi["threads_per_rank"] == [threads, threads]


def test_mpi_suite_plan() -> None:
    assert mpi_rank_counts(1) == [1] and mpi_rank_counts(6) == [1, 2, 4, 6]
    assert mpi_placement(2, True, 2) == ("--bind-to", "core", "--map-by", "core")
    assert mpi_placement(3, True, 2) == ("--bind-to", "none", "--oversubscribe")
    names = {r.name: r for r in mpi_suite(2, cpus=2)}
    assert set(names) == {
        f"mpi_{path}_{config}"
        for path in ("direct", "embedded")
        for config in (
            "C8192_R1_T1_bound",
            "C4096_R1_T1_bound",
            "C8192_R2_T1_bound",
            "C8192_R1_T2",
            "C8192_R2_T2",
        )
    }
    crowded = names["mpi_direct_C8192_R2_T2"]
    assert crowded.ranks == 2 and crowded.threads == 2 and "--bind-to" in crowded.mpirun_args
    assert crowded.launcher()[:3] == ["mpirun", "-np", "2"]
    with pytest.raises(ValueError, match="--mpi takes 1 to 64 ranks"):
        mpi_suite(65)


def test_mpi_suite_and_report_section(mpi_build: Path, model_dir: Path, tmp_path: Path) -> None:
    """A small MPI suite (256 columns, 2 steps, 2 passes) through run_suite and the report:
    launcher recorded, the section's tables and both plots written."""
    unbound = ("--bind-to", "none")
    head = (str(model_dir), "cgdrag_cpu.pt", "2", "--quiet")
    runs = [
        Run(
            f"mpi_direct_C{c}_R{r}_T1",
            "benchmarker_cgdrag_torch_mpi",
            (*head, "--columns", str(c)),
            1,
            r,
            unbound,
        )
        for c, r in ((256, 1), (512, 1), (512, 2))
    ]
    archive = tmp_path / "mpi" / "raw.tar.xz"
    run_suite(runs, mpi_build, model_dir, archive, progress=False, repeat=2)
    results = load_archive(archive)
    assert len(results) == 6
    assert all(r.data["mpi"]["launcher"].startswith("mpirun -np ") for r in results)
    report = write_report(results, tmp_path / "mpi").read_text()
    assert "## Many ranks (MPI)" in report
    assert "| direct | strong | 2 |" in report and "| direct | weak | 2 |" in report
    assert (tmp_path / "mpi" / "plots" / "mpi_scaling.png").stat().st_size > 0
    assert (tmp_path / "mpi" / "plots" / "mpi_startup.png").stat().st_size > 0
    # the main report links to it when it has no MPI runs of its own
    main = write_report(_native(tmp_path), tmp_path).read_text()
    assert "[mpi/report.md](mpi/report.md)" in main


def _native(tmp_path: Path) -> list[Result]:
    """One quick non-MPI result: the native Python baseline of large_stride, N = 4."""
    path = tmp_path / "native.json"
    args = ["native", "large_stride", "3", "--n", "4", "--mode", "eager", "--quiet"]
    assert main([*args, "--json", str(path)]) == 0
    return [load(path)]
