"""Any model through every path (issue 12): declared signatures, the shared input
rule, the tolerance counted from the model, the generic drivers of both coupling
paths, ``ftbench run-model`` end to end, and ResNet-18."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from conftest import run
from ftbench import checks, run_model, signature
from ftbench.cli import main
from ftbench.models import resnet
from ftbench.results import load, load_all
from ftbench.signature import SignatureError, TensorSpec

DRIVERS = ("benchmarker_model_torch", "benchmarker_model_forpy")


class Corners(nn.Module):
    """For a rank-3 input, the elements [0,0,0], [1,0,0], [0,1,0], [0,0,1], [1,2,4]: where
    each declared index lands in the Fortran array."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([x[0, 0, 0], x[1, 0, 0], x[0, 1, 0], x[0, 0, 1], x[1, 2, 4]])


class TwoByTwo(nn.Module):
    """Two inputs of different dtypes and ranks, two outputs: a small net with a
    convolution, a mean and a linear layer (float32) and a float64 sum."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.fc = nn.Linear(4, 5)

    def forward(
        self, image: torch.Tensor, column: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        h = torch.relu(self.conv(image)).mean((2, 3))
        return self.fc(h), column.cumsum(0) * 2


class Poisoned(nn.Module):
    """2 * x with one NaN and one infinity: must fail the check of every iteration."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = 2 * x
        y[0, 0] = float("nan")
        y[1, 1] = float("inf")
        return y


class ReturnsInt(nn.Module):
    """Returns an int64 tensor, which the drivers cannot check."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.argmax(dim=0)


def script(module: nn.Module, path: Path) -> Path:
    """Save ``module`` as TorchScript at ``path``."""
    torch.jit.save(torch.jit.script(module.eval()), str(path))
    return path


@pytest.fixture(scope="module")
def user_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Models a user would bring, saved as TorchScript."""
    directory = tmp_path_factory.mktemp("user_models")
    script(Corners(), directory / "corners.pt")
    script(TwoByTwo(), directory / "two_by_two.pt")
    script(ReturnsInt(), directory / "returns_int.pt")
    script(Poisoned(), directory / "poisoned.pt")
    return directory


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1x3x224x224:float32", TensorSpec((1, 3, 224, 224), "float32")),
        ("8192x40:float64", TensorSpec((8192, 40), "float64")),
        (" 7:float32", TensorSpec((7,), "float32")),
    ],
)
def test_parse_reads_sizes_in_pytorch_order(text: str, expected: TensorSpec) -> None:
    assert signature.parse(text) == expected
    assert signature.parse(str(expected)) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("3x4", "is not SIZExSIZE...:DTYPE"),
        ("3x4:int8", "dtype 'int8' is not supported; use float32 or float64"),
        ("3xa:float32", "sizes must be whole numbers"),
        ("3x0:float32", "every size must be at least 1"),
        ("1x2x3x4x5:float32", "has rank 5; ranks 1 to 4 run"),
        (":float32", "is not SIZExSIZE...:DTYPE"),
    ],
)
def test_parse_refuses_with_the_fix(text: str, message: str) -> None:
    with pytest.raises(SignatureError, match=re.escape(message)):
        signature.parse(text)


def test_parse_all_refuses_nothing_and_too_large_before_allocating() -> None:
    with pytest.raises(SignatureError, match="no input declared"):
        signature.parse_all([])
    with pytest.raises(SignatureError, match=r"need .* GiB .* more than the .* GiB of memory"):
        signature.parse_all(["100000x100000x1000:float64"])
    assert signature.parse_all(["2x3:float32,4:float64"]) == [
        TensorSpec((2, 3), "float32"),
        TensorSpec((4,), "float64"),
    ]


def test_model_input_follows_the_rule_in_column_major_order() -> None:
    """Element at column-major linear index L of input m is ((L + 61 m) mod 4096) / 4096."""
    rule = checks.model_input_rule()
    assert rule == {"element_step": 1, "input_step": 61, "modulus": 4096}
    x = signature.model_input(TensorSpec((2, 3, 5), "float32"), 1)
    assert x.dtype == np.float32 and x.shape == (2, 3, 5) and x.flags.f_contiguous
    linear = np.arange(30).reshape((2, 3, 5), order="F")
    assert np.array_equal(x, ((linear + 61) % 4096) / np.float32(4096))
    big = signature.model_input(TensorSpec((5000,), "float64"), 0)
    assert big[4096] == 0.0 and big[4095] == 4095 / 4096


def test_rounding_units_count_reductions_and_other_operations() -> None:
    """A linear layer counts its inner length, a convolution in channels x kernel,
    a mean its reduced elements, anything else 4 (ELEMENTWISE_ROUNDINGS)."""
    linear = nn.Linear(8, 3).eval()
    units, operations = signature.rounding_units(linear, [torch.rand(2, 8)])
    assert (units, operations) == (8, 1)
    conv = nn.Conv2d(3, 4, 3).eval()
    units, _ = signature.rounding_units(conv, [torch.rand(1, 3, 6, 6)])
    assert units == 27
    units, _ = signature.rounding_units(lambda x: torch.relu(x).mean((1, 2)), [torch.rand(2, 4, 5)])
    assert units == signature.ELEMENTWISE_ROUNDINGS + 20
    scripted = torch.jit.script(TwoByTwo().eval())
    inputs = [torch.rand(1, 3, 4, 4), torch.rand(6, dtype=torch.float64)]
    assert signature.rounding_units(scripted, inputs)[0] > 27 + 16 + 4


def test_prepare_writes_references_of_the_rule_inputs(user_models: Path, tmp_path: Path) -> None:
    """The references are the model's outputs on the rule's inputs, column-major bytes;
    the case records outputs, tolerance and its basis."""
    specs = signature.parse_all(["2x3x5:float32"])
    case = run_model.prepare(user_models / "corners.pt", specs, tmp_path, "corners")
    assert case.outputs == ["5:float32"]
    reference = np.fromfile(case.references[0], dtype=np.float32)
    # x[i1, i2, i3] is a(i1+1, i2+1, i3+1): column-major linear index i1 + 2 i2 + 6 i3.
    assert np.array_equal(reference, np.array([0, 1, 2, 6, 1 + 2 * 2 + 6 * 4]) / np.float32(4096))
    assert case.rtol == case.rounding_units * checks.unit_roundoff("float32")
    assert case.basis == checks.model_basis()
    assert run_model.load_case(tmp_path / run_model.CASE_FILE) == case


@pytest.mark.parametrize(
    ("model", "inputs", "message"),
    [
        (
            "two_by_two.pt",
            ["1x3x4x4:float32"],
            "'column'; the model declares forward(Tensor image, Tensor column)",
        ),
        ("corners.pt", ["4x4:float32"], "forward rejected inputs 4x4:float32"),
        ("returns_int.pt", ["3x2:float32"], "output 1 is Tensor int64; the drivers check float32"),
        ("missing.pt", ["3:float32"], "no such model file"),
    ],
)
def test_prepare_names_what_the_model_expects(
    user_models: Path, tmp_path: Path, model: str, inputs: list[str], message: str
) -> None:
    with pytest.raises((SignatureError, FileNotFoundError), match=re.escape(message)):
        run_model.prepare(user_models / model, signature.parse_all(inputs), tmp_path, "m")
    assert not (tmp_path / run_model.CASE_FILE).exists()


def test_prepare_refuses_files_that_are_not_torchscript(tmp_path: Path) -> None:
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a model")
    with pytest.raises(SignatureError, match="is not a TorchScript file"):
        run_model.prepare(junk, [TensorSpec((2,), "float32")], tmp_path, "junk")
    package = tmp_path / "model.pt2"
    package.write_bytes(b"")
    with pytest.raises(SignatureError, match="takes TorchScript files for now"):
        run_model.prepare(package, [TensorSpec((2,), "float32")], tmp_path, "p")


@pytest.mark.parametrize("program", DRIVERS)
def test_generic_drivers_keep_the_declared_index_order(
    build_dir: Path, user_models: Path, tmp_path: Path, program: str
) -> None:
    """A non-square rank-3 input through both paths: the outputs equal native
    Python's references exactly (same input bytes, same index mapping)."""
    specs = signature.parse_all(["2x3x5:float32"])
    case = run_model.prepare(user_models / "corners.pt", specs, tmp_path / "case", "corners")
    results = tmp_path / "r.json"
    out = run(
        [build_dir / "bin" / program, case.model, 3, "--inputs", "2x3x5:float32"]
        + ["--references", case.references[0], "--rtol", case.rtol, "--json", results]
    )
    assert out.returncode == 0, out.stdout + out.stderr
    data = load(results).data
    assert data["correctness"]["max_abs_error"] == 0.0
    assert data["sizes"] == {"input_1": "2x3x5:float32", "output_1": "5:float32"}
    assert data["model_metadata"] == {"model": "corners", "format": "torchscript"}
    assert data["benchmark"] == "model" and data["dtype"] == "float32"
    assert "output sizing" in data["once"]


@pytest.mark.parametrize("program", DRIVERS)
def test_generic_drivers_refuse_bad_signatures_and_references(
    build_dir: Path, user_models: Path, tmp_path: Path, program: str
) -> None:
    """Usage errors exit 2, a model that rejects the inputs or references that do not
    fit exit 1 with one line naming the problem; no results file either way."""
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"1234567")
    model = user_models / "corners.pt"
    results = tmp_path / "r.json"
    common = ["--rtol", "1e-6", "--json", results]
    cases = [
        (["--inputs", "2x3x5:int8", "--references", "r.bin"], 2, "dtype 'int8' is not supported"),
        (["--inputs", "2x3x5x1x1:float32", "--references", "r.bin"], 2, "has rank 5"),
        (["--inputs", "2x3x5:float32"], 2, "--references is required"),
        (["--inputs", "4:float32", "--references", "r.bin"], 1, "forward"),
        (
            ["--inputs", "2x3x5:float32", "--references", bad],
            1,
            "7 bytes, but output 1 (5:float32) needs 20",
        ),
        (["--inputs", "2x3x5:float32", "--references", "a.bin,b.bin"], 1, "2 file(s)"),
    ]
    for args, code, message in cases:
        out = run([build_dir / "bin" / program, model, 2, *args, *common])
        assert out.returncode == code, (args, out.stdout + out.stderr)
        assert message in out.stderr, (args, out.stderr)
        assert not results.exists()
    out = run([build_dir / "bin" / program, model, 2, "--inputs", "2x3x5:float32"] + common[:2])
    assert out.returncode == 2 and "--references is required" in out.stderr


def test_native_cpp_baseline_of_a_case(build_dir: Path, user_models: Path, tmp_path: Path) -> None:
    """`benchmarker_native_cpp ... model`: the same inputs and index order as the
    Fortran drivers (exact match with the references), and the same refusals."""
    specs = signature.parse_all(["2x3x5:float32"])
    case = run_model.prepare(user_models / "corners.pt", specs, tmp_path / "case", "corners")
    program = [build_dir / "bin" / "benchmarker_native_cpp", user_models, "corners.pt", 3, "model"]
    results = tmp_path / "r.json"
    checked = ["--inputs", "2x3x5:float32", "--references", case.references[0], "--rtol", case.rtol]
    out = run([*program, *checked, "--name", "corners", "--json", results])
    assert out.returncode == 0, out.stdout + out.stderr
    data = load(results).data
    assert data["correctness"]["max_abs_error"] == 0.0 and data["benchmark"] == "corners"
    assert data["sizes"] == {"input_1": "2x3x5:float32", "output_1": "5:float32"}
    assert data["model_metadata"] == {"model": "corners", "format": "torchscript"}
    assert "output sizing" in data["once"]
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"1234567")
    for args, code, message in [
        (["--inputs", "2x3:int8", "--references", bad, "--rtol", 1], 2, "dtype 'int8'"),
        (["--inputs", "1x1x1x1x1:float32", "--references", bad, "--rtol", 1], 2, "rank 5"),
        (["--inputs", "2x3x5:float32"], 2, "model needs --inputs, --references and --rtol"),
        (["--inputs", "2x3x5:float32", "--references", bad, "--rtol", 1], 1, "7 bytes"),
        (["--inputs", "4:float32", "--references", bad, "--rtol", 1], 1, "benchmarker_native_cpp"),
    ]:
        out = run([*program, *args, "--json", tmp_path / "none.json"])
        assert out.returncode == code and message in out.stderr, (args, out.stderr)
        assert not (tmp_path / "none.json").exists()


def test_run_model_end_to_end(build_dir: Path, user_models: Path, tmp_path: Path) -> None:
    """`ftbench run-model` on a two-input, two-output model a user saved: every path
    passes every check, and the report has one table with the four paths."""
    out = tmp_path / "out"
    status = main(
        [
            "run-model",
            str(user_models / "two_by_two.pt"),
            "--input",
            "2x3x6x5:float32",
            "--input",
            "7:float64",
            "--ntimes",
            "2",
            "--warmup",
            "1",
            "--passes",
            "1",
            "--build",
            str(build_dir),
            "--out",
            str(out),
            "--no-progress",
        ]
    )
    assert status == 0
    results = load_all([out / "raw.tar.xz"])
    assert sorted(r.data["coupling_path"] for r in results) == [
        "direct",
        "embedded-python",
        "native-cpp-torchscript",
        "native-python-torchscript",
    ]
    assert all(r.passed and r.data["benchmark"] == "two_by_two" for r in results)
    assert all(r.model_format == "TorchScript" for r in results)
    report = (out / "report.md").read_text()
    assert "## two_by_two" in report and report.count("| passed ") == 4
    case = json.loads((out / "case" / run_model.CASE_FILE).read_text())
    assert case["outputs"] == ["2x5:float32", "7:float64"]


def test_run_model_refuses_before_running(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    status = main(["run-model", str(tmp_path / "none.pt"), "--input", "3:float16"])
    assert status == 1
    assert "dtype 'float16' is not supported" in capsys.readouterr().err
    status = main(["run-model", str(tmp_path / "none.pt"), "--input", "3:float32", "--passes", "0"])
    assert status == 1


def test_resnet18_is_torchvisions_architecture() -> None:
    """torchvision's resnet18 has 11,689,512 parameters and maps (B, 3, 224, 224) to
    (B, 1000); the seeded weights are the same on every build."""
    model = resnet.build()
    assert sum(p.numel() for p in model.parameters()) == 11_689_512
    with torch.inference_mode():
        logits = model(torch.zeros(2, *resnet.IMAGE))
    assert logits.shape == (2, resnet.CLASSES)
    assert torch.equal(model.fc.weight, resnet.build().fc.weight)
    assert not model.training


def test_model_emulator_sizes_and_fills_outputs_in_place(user_models: Path) -> None:
    """The embedded path's module, called as the driver calls it: the output
    signature from one forward, then outputs written into Fortran-ordered arrays."""
    from ftbench import model_emulator

    model = model_emulator.initialize(str(user_models / "two_by_two.pt"))
    assert json.loads(model_emulator.metadata(model)) == {
        "model": "two_by_two",
        "format": "torchscript",
    }
    image = signature.model_input(TensorSpec((2, 3, 4, 4), "float32"), 0)
    column = signature.model_input(TensorSpec((6,), "float64"), 1)
    assert model_emulator.output_signature(model, image, column) == "2x5:float32,6:float64"
    first = np.zeros((2, 5), dtype=np.float32, order="F")
    second = np.zeros(6, dtype=np.float64)
    model_emulator.compute(model, 2, image, column, first, second)
    assert np.allclose(second, np.cumsum(column) * 2, rtol=1e-14, atol=0)
    with pytest.raises(ValueError, match=r"returned 2 output\(s\) for 1 array"):
        model_emulator.compute(model, 2, image, column, first)
    with pytest.raises(RuntimeError, match="does not fit array"):
        model_emulator.compute(model, 2, image, column, first, second.astype(np.float32))
    with pytest.raises(FileNotFoundError):
        model_emulator.initialize(str(user_models / "missing.pt"))


def test_native_python_baseline_of_a_case(user_models: Path, tmp_path: Path) -> None:
    """`ftbench native model` on a prepared case: checked against the references,
    results named after the case, sizes as signatures."""
    specs = signature.parse_all(["2x3x4x4:float32", "6:float64"])
    run_model.prepare(user_models / "two_by_two.pt", specs, tmp_path, "two_by_two")
    results = tmp_path / "r.json"
    case_file = str(tmp_path / run_model.CASE_FILE)
    # 1 thread, as the references: the outputs are then the same bits on any CPU.
    args = ["native", "model", "3", "--case", case_file, "--threads", "1", "--quiet"]
    threads = torch.get_num_threads()
    try:
        assert main([*args, "--mode", "torchscript", "--json", str(results)]) == 0
    finally:
        torch.set_num_threads(threads)
    data = load(results).data
    assert data["benchmark"] == "two_by_two" and data["correctness"]["passed"]
    assert data["correctness"]["max_abs_error"] == 0.0
    assert data["sizes"]["output_2"] == "6:float64" and data["dtype"] == "mixed"
    assert main([*args, "--mode", "eager"]) == 1
    assert main(["native", "model", "3", "--quiet"]) == 1


def test_rounding_units_of_recurrent_and_attention_layers() -> None:
    """An LSTM counts every step's two matrix products, attention its head dimension
    and keys: fused operations are not counted as a single rounding."""
    lstm = nn.LSTM(8, 32, batch_first=True).eval()
    units, _ = signature.rounding_units(lstm, [torch.rand(5, 50, 8)])
    assert units >= 50 * (8 + 32)
    units, _ = signature.rounding_units(
        lambda q: nn.functional.scaled_dot_product_attention(q, q, q), [torch.rand(2, 4, 16, 8)]
    )
    assert units >= 8 + 16
    units, _ = signature.rounding_units(lambda x: x.cumsum(1), [torch.rand(3, 7)])
    assert units == 7


def test_generic_driver_views_are_the_buffers(build_dir: Path) -> None:
    """Zero-copy, proven: the tensor over each declared-rank view of a generic
    driver's buffer has the buffer's address, the declared sizes and column-major
    strides (float32 and float64, ranks 1 to 4; fortran/tests/test_model_case.f90)."""
    out = run([build_dir / "tests" / "test_model_case"])
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.count(" rank=") == 8 and "ALL PASSED" in out.stdout


@pytest.mark.parametrize("program", DRIVERS)
def test_generic_drivers_fail_nan_and_inf_outputs(
    build_dir: Path, user_models: Path, tmp_path: Path, program: str
) -> None:
    """References made by a clean model; a model that returns NaN and infinity fails
    every iteration, exits 1 and records it (errors written as null)."""
    specs = signature.parse_all(["3x4:float32"])
    clean = tmp_path / "clean.pt"
    script(nn.Identity(), clean)
    case = run_model.prepare(clean, specs, tmp_path / "case", "poisoned")
    reference = np.fromfile(case.references[0], dtype=np.float32)
    (tmp_path / "twice.bin").write_bytes((2 * reference).tobytes())
    results = tmp_path / "r.json"
    out = run(
        [build_dir / "bin" / program, user_models / "poisoned.pt", 2, "--inputs", "3x4:float32"]
        + ["--references", tmp_path / "twice.bin", "--rtol", 1e-6, "--json", results]
    )
    assert out.returncode == 1, out.stdout + out.stderr
    assert "FAILED :: [check iteration 2" in out.stdout + out.stderr
    correctness = load(results).data["correctness"]
    assert correctness["failed_iterations"] == 3 and correctness["max_error_ratio"] is None
