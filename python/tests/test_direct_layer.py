"""The direct (libtorch) coupling layer, through the Fortran test programs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import SOAK_CALLS, assert_soak_bounded, run, soak_samples

DTYPES = ("real32", "real64", "int32", "int64")


def test_tensor_wraps_array_without_copy(build_dir: Path) -> None:
    """The tensor's data pointer is the Fortran array's address, for every dtype and rank 1-4."""
    out = run([build_dir / "tests" / "test_torch_tensor"])
    assert out.returncode == 0, out.stdout + out.stderr
    pointers = re.findall(r"^(.*) data_ptr=([0-9A-F]+) c_loc=([0-9A-F]+)", out.stdout, re.M)
    cases = {label for label, _, _ in pointers}
    assert {f"{dtype} rank {rank}" for dtype in DTYPES for rank in range(1, 5)} <= cases
    assert any("section" in label for label in cases)
    for label, data_ptr, address in pointers:
        assert data_ptr == address, f"{label}: tensor data {data_ptr} is not the array {address}"
    assert "real32 rank 2 strides=1,3" in out.stdout  # column-major (3, 5)
    # A tensor never created: inspecting it fails with a message, deleting it is a no-op.
    null = "tensor is a null tensor (not created, or already deleted)"
    assert f"error data_ptr: torch_tensor_data_ptr: cannot read tensor data pointer: {null}" in (
        out.stdout
    )
    assert f"error layout: torch_tensor_layout: cannot read tensor layout: {null}" in out.stdout
    assert out.stdout.rstrip().endswith("ALL PASSED")


C_ABI_CASES = (
    "torch-stride-not-whole",
    "torch-unsupported-type",
    "torch-null-base",
    "torch-null-descriptor",
    "torch-null-output-handle",
    "torch-data-ptr-null-tensor",
    "torch-layout-rank-above-max",
    "torch-grad-int-tensor",
    "torch-attach-grad-null-tensor",
    "torch-train-null-model",
    "torch-forward-graph-null-output",
    "torch-loss-null-output",
    "torch-optimizer-null-model",
    "torch-optimizer-step-null",
    "torch-zero-grad-null",
    "torch-unknown-device",
    "torch-bad-device-index",
    "py-not-initialised",
    "py-finalize-not-initialised",
    "py-unsupported-type",
    "py-null-base",
    "py-null-descriptor",
    "py-call-without-result",
)


def test_c_abi_guards_fortran_cannot_reach(build_dir: Path) -> None:
    """Both C shims refuse, with a message, the descriptors and handles that only a
    caller outside Fortran can pass: a stride that is not whole elements, an int8
    array, a null array, null handles, an unknown device (test_c_abi.c states each
    expected message)."""
    out = run([build_dir / "tests" / "test_c_abi"])
    assert out.returncode == 0, out.stdout + out.stderr
    passed = re.findall(r"^ok ([\w-]+): ", out.stdout, re.M)
    assert passed == list(C_ABI_CASES)
    assert out.stdout.rstrip().endswith("ALL PASSED")


def test_index_order_through_torchscript(build_dir: Path, model_dir: Path) -> None:
    """Fortran y(i, j) receives tensor element [i-1, j-1] on a non-square 3 x 5 array."""
    out = run([build_dir / "tests" / "test_torch_model", "index-order", model_dir])
    assert out.returncode == 0, out.stdout + out.stderr
    assert "ALL PASSED" in out.stdout


def test_several_inputs_and_tuple_outputs(build_dir: Path, model_dir: Path) -> None:
    out = run([build_dir / "tests" / "test_torch_model", "multi-io", model_dir])
    assert out.returncode == 0, out.stdout + out.stderr
    assert "ALL PASSED" in out.stdout


# case -> (failing procedure, text the message must contain)
ERRORS = {
    "missing-file": ("torch_model_load", "no_such_model.pt': no such file"),
    "corrupt-file": ("torch_model_load", "corrupt.pt': PytorchStreamReader failed"),
    "cuda": ("torch_model_load", "CUDA device requested"),
    "not-loaded": ("torch_model_forward", "model is not loaded"),
    "threads": ("torch_set_num_threads", "need at least 1 thread"),
    "wrong-dtype": (
        "torch_model_forward",
        "on (float64 [3, 4]) failed: RuntimeError: expected m1 and m2 to have the same dtype",
    ),
    "wrong-rank": (
        "torch_model_forward",
        "on (float32 [3, 4, 2]) failed: RuntimeError: self must be a matrix",
    ),
    "wrong-shape": ("torch_model_forward", "shapes cannot be multiplied (3x3 and 4x2)"),
    "output-shape": (
        "torch_model_forward",
        "output 1 has shape [3, 2] but output array 1 has shape [2, 3]",
    ),
    "output-dtype": ("torch_model_forward", "dtype float32 but output array 1 has dtype float64"),
    "output-count": ("torch_model_forward", "returned 1 output(s) but 2 output array(s)"),
    "model-exception": ("torch_model_forward", "model-internal check failed: input out of range"),
    "signature-not-loaded": ("torch_model_output_signature", "null model (not loaded"),
    "signature-exception": (
        "torch_model_output_signature",
        "model-internal check failed: input out of range",
    ),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_error_returned_through_stat(build_dir: Path, model_dir: Path, case: str) -> None:
    """With stat present, a failure returns stat /= 0 and a one-line errmsg naming the cause."""
    procedure, text = ERRORS[case]
    out = run([build_dir / "tests" / "test_torch_model", case, model_dir, "stat"])
    assert out.returncode == 0, out.stdout + out.stderr
    line = out.stdout.strip()
    assert line.startswith("stat=1 errmsg=" + procedure + ": "), line
    assert text in line


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_error_without_stat_stops_with_one_line(
    build_dir: Path, model_dir: Path, case: str
) -> None:
    """Without stat, a failure prints one line on stderr and exits 1 (no crash, no backtrace)."""
    procedure, text = ERRORS[case]
    out = run([build_dir / "tests" / "test_torch_model", case, model_dir, "stop"])
    assert out.returncode == 1, out.stdout + out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith(procedure + ": ") and text in lines[0]


@pytest.mark.resident_memory
@pytest.mark.parametrize(
    ("case", "iterations", "extra", "bound_kb"),
    [
        # The soak: tensors and forward, 90,000 cycles after the first 10,000,
        # < 3 bytes a cycle, through TorchScript and through an AOTInductor package.
        ("memory", SOAK_CALLS, [], 256),
        ("memory", SOAK_CALLS, ["large_stride_vectorized_cpu.pt2"], 256),
        # the whole TorchScript model too: 900 load/forward/delete cycles, < 1 kB a cycle.
        # (Not packages: every AOTInductor load maps a new copy of its library and
        # never unmaps it, about 290 kB a load; see docs/direct-coupling.md.)
        ("memory-load", 1000, [], 900),
    ],
)
def test_no_memory_growth(
    build_dir: Path, model_dir: Path, case: str, iterations: int, extra: list[str], bound_kb: int
) -> None:
    """After the first tenth of the cycles, resident memory grows less than the bound
    and the open file descriptors and threads stay the same (sampled ten times)."""
    out = run(
        [build_dir / "tests" / "test_torch_model", case, model_dir, "stat", iterations, *extra]
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert_soak_bounded(soak_samples(out.stdout), iterations, bound_kb)
