"""WaveNet-2 (cgdrag): the model, checkpoints, inputs, export, and the drivers of both paths."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import run
from ftbench.export import read_metadata, specs
from ftbench.inputs import (
    N_LAT,
    N_LON,
    columns,
    gaussian_latitudes,
    read_inputs,
    reference_drag,
    synthetic_fields,
)
from ftbench.models import wavenet
from ftbench.results import load


def test_architecture_matches_the_published_checkpoints() -> None:
    model = wavenet.build()
    assert wavenet.parameter_count(model) == 375_228
    keys = list(model.state_dict())
    assert keys[:5] == [
        "shared.0.weight",
        "shared.0.bias",
        "shared.0.running_mean",
        "shared.0.running_var",
        "shared.0.num_batches_tracked",
    ]
    assert [k for k in keys if k.startswith("shared.") and k.endswith(".weight")] == [
        f"shared.{i}.weight" for i in (0, 1, 3, 5, 7, 9, 11)
    ]
    assert {k for k in keys if k.startswith("branches.39.")} == {
        "branches.39.0.weight",
        "branches.39.0.bias",
        "branches.39.2.weight",
        "branches.39.2.bias",
    }
    assert len(keys) == 5 + 6 * 2 + 40 * 4
    assert "means" not in keys and "stds" not in keys
    assert all(p.dtype == torch.float64 for p in model.parameters())


def _inputs(ncol: int = 16) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(1)
    wind = torch.randn(ncol, 40, generator=generator, dtype=torch.float64) * 20
    lat = torch.rand(ncol, 1, generator=generator, dtype=torch.float64) * 180 - 90
    pressure = 1e5 + 1e3 * torch.randn(ncol, 1, generator=generator, dtype=torch.float64)
    return wind, lat, pressure


def test_checkpoint_written_and_read_back_gives_identical_outputs(tmp_path: Path) -> None:
    path = tmp_path / "checkpoint.pt"
    wavenet.save_checkpoint(wavenet.synthetic_checkpoint(), path)
    raw = torch.load(path, weights_only=True)
    assert set(raw) == {"weights", "means", "stds"} and raw["means"].shape == (40,)
    with torch.inference_mode():
        assert torch.equal(wavenet.build(path)(*_inputs()), wavenet.build()(*_inputs()))


def test_synthetic_weights_are_deterministic_and_level_40_is_zero() -> None:
    with torch.inference_mode():
        a, b = wavenet.build()(*_inputs()), wavenet.build()(*_inputs())
    assert torch.equal(a, b)
    assert torch.all(a[:, -1] == 0)  # mean = std = 0 there, as in the published checkpoint
    assert 1e-7 < a[:, :-1].abs().median() < 1e-3  # drag-sized values, m/s^2


def test_bad_checkpoint_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "bad.pt"
    torch.save({"weights": {}}, path)
    with pytest.raises(ValueError, match="not a WaveNet checkpoint"):
        wavenet.build(path)


def test_argument_order_matters() -> None:
    """forward(wind, lat, pressure): swapping latitude and pressure changes the drag."""
    wind, lat, pressure = _inputs()
    model = wavenet.build()
    with torch.inference_mode():
        assert not torch.allclose(model(wind, lat, pressure), model(wind, pressure, lat))


def test_inputs_are_mima_shaped(model_dir: Path) -> None:
    data = read_inputs(model_dir / "data" / "cgdrag_t42")
    assert data["uuu"].shape == (N_LON, N_LAT, 40) and data["psfc"].shape == (N_LON, N_LAT)
    np.testing.assert_allclose(data["lat"], gaussian_latitudes())
    assert np.all(np.diff(data["lat"]) > 0) and -90 < data["lat"][0] < -87
    assert 20 < data["uuu"].max() < 120 and -60 < data["uuu"].min() < 0  # jets, QBO easterlies
    assert 9.0e4 < data["psfc"].min() and data["psfc"].max() < 1.1e5
    fields = synthetic_fields()
    np.testing.assert_array_equal(data["uuu"], fields["uuu"])
    threads = torch.get_num_threads()
    torch.set_num_threads(data["reference_conditions"]["threads"])  # same rounding: exact
    try:
        expected = reference_drag(
            wavenet.build(model_dir / "wavenet_checkpoint.pt"),
            *(fields[k] for k in ("uuu", "lat", "psfc")),
        )
    finally:
        torch.set_num_threads(threads)
    np.testing.assert_array_equal(data["gwfu_ref"], expected)


def test_columns_are_fortran_ordered() -> None:
    field = np.asfortranarray(np.arange(2 * 3 * 4).reshape(2, 3, 4, order="F"))
    cols = columns(field)
    assert cols.shape == (6, 4) and np.shares_memory(cols, field)
    assert cols[1, 0] == field[1, 0, 0] and cols[2, 0] == field[0, 1, 0]


def test_exported_files_round_trip(model_dir: Path) -> None:
    for name, fmt in (("cgdrag_cpu.pt", "scripted"), ("cgdrag_traced_cpu.pt", "traced-frozen")):
        metadata = read_metadata(model_dir / name)
        assert metadata["format"] == f"torchscript-{fmt}" and metadata["model"] == "cgdrag_wavenet2"
        loaded = torch.jit.load(str(model_dir / name))
        with torch.inference_mode():
            expected = wavenet.build(model_dir / "wavenet_checkpoint.pt")(*_inputs(64))
            torch.testing.assert_close(loaded(*_inputs(64)), expected, rtol=1e-12, atol=0)
    assert {s.file_name for s in specs(model_dir / "wavenet_checkpoint.pt")} >= {
        "cgdrag_cpu.pt",
        "cgdrag_traced_cpu.pt",
    }


PHASES = [
    "array allocation",
    "reshape",
    "tensor creation",
    "forward",
    "tensor deletion",
    "array deallocation",
    "loop",
]


@pytest.mark.parametrize(
    ("driver", "model", "options", "variant"),
    [
        ("benchmarker_cgdrag_torch", "cgdrag_cpu.pt", [], "implicit reshape"),
        ("benchmarker_cgdrag_torch", "cgdrag_cpu.pt", ["--explicit-reshape"], "explicit reshape"),
        (
            "benchmarker_cgdrag_torch",
            "cgdrag_traced_cpu.pt",
            ["--alloc-in-loop"],
            "implicit reshape, alloc in loop",
        ),
        ("benchmarker_cgdrag_forpy", "cgdrag_emulator", [], "python model, implicit reshape"),
        (
            "benchmarker_cgdrag_forpy",
            "cgdrag_emulator",
            ["--explicit-reshape", "--alloc-in-loop"],
            "python model, explicit reshape, alloc in loop",
        ),
        (
            "benchmarker_cgdrag_forpy",
            "cgdrag_emulator",
            ["--torchscript", "cgdrag_cpu.pt"],
            "torchscript, implicit reshape",
        ),
    ],
)
def test_phased_drivers_equal_python_references(
    build_dir: Path,
    model_dir: Path,
    tmp_path: Path,
    driver: str,
    model: str,
    options: list[str],
    variant: str,
) -> None:
    """Fortran results equal the Python references exactly, on both paths and both reshapes.

    The references were made on 1 thread, as these runs: a largest absolute
    difference of exactly 0 means every element equals the reference, so implicit
    and explicit reshape give identical outputs; and since the references were
    computed with forward(wind, lat, pressure), the drivers pass that order.
    """
    results = tmp_path / "r.json"
    out = run(
        [build_dir / "bin" / driver, model_dir, model, 1, "--threads", 1, *options]
        + ["--json", results]
    )
    assert out.returncode == 0, out.stdout + out.stderr
    data = load(results).data
    assert data["coupling_variant"] == variant
    assert data["phase_order"] == PHASES
    assert data["sizes"] == {"columns": 8192, "levels": 40} and data["dtype"] == "float64"
    assert data["correctness"]["passed"] and data["correctness"]["max_abs_error"] == 0.0
    assert data["correctness"]["reference_conditions"]["threads"] == 1
    assert data["environment"]["cpu_capability"] and data["environment"]["blas"]
    assert data["model_metadata"]["model"] == "cgdrag_wavenet2"


@pytest.mark.parametrize(
    ("driver", "model"),
    [("benchmarker_torch", "cgdrag_cpu.pt"), ("benchmarker_forpy", "cgdrag_emulator")],
)
def test_mima_style_drivers(build_dir: Path, model_dir: Path, driver: str, model: str) -> None:
    out = run([build_dir / "bin" / driver, model_dir, model, 2, "--threads", 1, "--warmup", 0])
    assert out.returncode == 0, out.stdout + out.stderr
    assert "cg_drag_ML: 2 calls after the warm-up, total" in out.stdout
    assert out.stdout.count("PASSED :: [check iteration") == 2


def test_columns_option_runs_a_sub_block(build_dir: Path, model_dir: Path, tmp_path: Path) -> None:
    results = tmp_path / "r.json"
    out = run(
        [build_dir / "bin" / "benchmarker_cgdrag_torch", model_dir, "cgdrag_cpu.pt", 1]
        + ["--columns", 512, "--json", results]
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert load(results).data["sizes"]["columns"] == 512


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ["--data", "/nowhere/x"],
            1,
            "cgdrag_read: npy_read: '/nowhere/x/uuu.npy': No such file or directory "
            "(write the inputs with `ftbench inputs`",
        ),
        (["--columns", "100"], 2, "--columns must be at least 128, got 100"),
        (["--columns", "200"], 2, "--columns must be a multiple of 128"),
    ],
)
def test_driver_input_errors(
    build_dir: Path, model_dir: Path, args: list[str], code: int, message: str
) -> None:
    out = run(
        [build_dir / "bin" / "benchmarker_cgdrag_torch", model_dir, "cgdrag_cpu.pt", 1, *args]
    )
    assert out.returncode == code
    assert message in out.stderr.splitlines()[0]


@pytest.mark.parametrize("program", ["benchmarker_cgdrag_torch", "native C++", "native Python"])
def test_non_finite_inputs_are_refused_by_every_path(
    build_dir: Path, model_dir: Path, tmp_path: Path, program: str
) -> None:
    """A NaN in the inputs is refused before the model load, in one line naming
    the variable and the fix, by the Fortran drivers and both native baselines alike
    (none of them measures a run whose every check would fail)."""
    import shutil
    import sys

    models = tmp_path / "models"
    (models / "data").mkdir(parents=True)
    for entry in model_dir.iterdir():
        if entry.name != "data":
            (models / entry.name).symlink_to(entry)
    data = models / "data" / "cgdrag_t42"
    shutil.copytree(model_dir / "data" / "cgdrag_t42", data)
    vvv = np.load(data / "vvv.npy")
    vvv[7, 5, 3] = np.nan
    np.save(data / "vvv.npy", np.asfortranarray(vvv))
    command = {
        "benchmarker_cgdrag_torch": [build_dir / "bin" / program, models, "cgdrag_cpu.pt", 1],
        "native C++": [build_dir / "bin" / "benchmarker_native_cpp", models, "cgdrag_cpu.pt"]
        + [1, "cgdrag"],
        "native Python": [sys.executable, "-m", "ftbench.cli", "native", "cgdrag", 1]
        + ["--models", models],
    }[program]
    out = run([*command, "--json", tmp_path / "r.json"])
    assert out.returncode == 1, out.stdout + out.stderr
    assert f"variable vvv in '{data}' has 1 NaN or infinite value(s)" in out.stderr, out.stderr
    assert "rewrite it with `ftbench inputs`" in out.stderr
    assert not (tmp_path / "r.json").exists()


def test_wrong_model_for_the_data_fails_cleanly(
    build_dir: Path, model_dir: Path, tmp_path: Path
) -> None:
    out = run(
        [build_dir / "bin" / "benchmarker_cgdrag_torch", model_dir, "mm_float32.pt", 1]
        + ["--json", tmp_path / "r.json"]
    )
    assert out.returncode == 1
    assert out.stderr.startswith("torch_model_forward: forward of ")
    assert "float64 [8192, 40], float64 [8192, 1], float64 [8192, 1]" in out.stderr
    assert not (tmp_path / "r.json").exists()


def test_embedded_exception_shows_traceback(build_dir: Path, model_dir: Path) -> None:
    out = run(
        [build_dir / "bin" / "benchmarker_cgdrag_forpy", model_dir, "cgdrag_emulator", 1]
        + ["--checkpoint", "missing_checkpoint.pt"]
    )
    assert out.returncode == 1
    first, *rest = out.stderr.splitlines()
    assert first.startswith("py_call: calling 'initialize' of module 'cgdrag_emulator' failed: ")
    assert "FileNotFoundError" in first and "Traceback (most recent call last):" in rest


def test_checkpoint_hash_in_exports_and_inputs_and_is_current(
    model_dir: Path, tmp_path: Path
) -> None:
    """Exports and inputs name the checkpoint they were made from by its SHA-256, and
    inputs are current only for that checkpoint (and this ftbench version)."""
    from ftbench.export import file_sha256
    from ftbench.inputs import is_current

    checkpoint = model_dir / "wavenet_checkpoint.pt"
    digest = file_sha256(checkpoint)
    for name in ("cgdrag_cpu.pt", "cgdrag_traced_cpu.pt", "cgdrag_cpu.pt2"):
        assert read_metadata(model_dir / name)["checkpoint_sha256"] == digest
    data_file = model_dir / "data" / "cgdrag_t42"
    assert read_inputs(data_file)["checkpoint_sha256"] == digest
    assert is_current(data_file, checkpoint) and is_current(data_file, checkpoint, threads=1)
    assert not is_current(data_file, checkpoint, threads=2)  # made on 1 thread
    other = tmp_path / "other.pt"
    changed = wavenet.synthetic_checkpoint()
    changed["means"] = changed["means"] + 1.0
    wavenet.save_checkpoint(changed, other)
    assert not is_current(data_file, other)
    assert not is_current(tmp_path / "none", checkpoint)


def test_emulator_refuses_a_view_that_would_need_a_copy(model_dir: Path) -> None:
    """compute_reshape_drag views its arrays as columns without copying; an array
    whose layout would need a copy raises instead of silently copying."""
    import sys

    sys.path.insert(0, str(model_dir))
    try:
        import cgdrag_emulator
    finally:
        sys.path.remove(str(model_dir))
    wind = np.zeros((4, 3, 40), order="C")  # C order: no (12, 40) Fortran-order view exists
    with pytest.raises(ValueError, match="copy"):
        cgdrag_emulator._columns(wind, 12)
    fortran = np.asfortranarray(wind)
    assert np.shares_memory(cgdrag_emulator._columns(fortran, 12).numpy(), fortran)


def test_embedded_columns_view_never_copies(model_dir: Path) -> None:
    """The embedded module's (num_col, k) view of a (nlon, nlat, k) field is the field's
    own memory when it is Fortran-ordered, and a C-ordered field is refused
    (np.reshape(copy=False) raises) rather than silently copied."""
    import sys

    sys.path.insert(0, str(model_dir))
    try:
        import cgdrag_emulator as emulator
    finally:
        sys.path.remove(str(model_dir))
    field = np.asfortranarray(np.random.default_rng(0).random((4, 3, 5)))
    view = emulator._columns(field, 12)
    assert view.data_ptr() == field.ctypes.data and tuple(view.shape) == (12, 5)
    assert view[5, 2].item() == field[1, 1, 2]  # column 5 is (lon 2, lat 2), Fortran order
    with pytest.raises(ValueError, match="copy"):
        emulator._columns(np.ascontiguousarray(field), 12)
