"""Generated bad inputs (issue 13, item 2): command lines, signatures, model files
and (a fixed list of) broken embedded-path modules, which the drivers must refuse
with one clear message, a non-zero exit, no results file and never a death by
signal. Hypothesis generates them, deterministically (``derandomize``), a bounded
number per test; every generated input is counted and the total must reach
``MINIMUM_DISTINCT`` (docs/reliability.md has the table).
"""

from __future__ import annotations

import hashlib
import io
import string
import tempfile
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import run

MINIMUM_DISTINCT = 200
"""Distinct bad inputs the tests below must have tried together."""
TRIED: Counter[str] = Counter()
SEEN: set[tuple[str, ...]] = set()


def fuzz(examples: int) -> settings:
    """Hypothesis settings of these tests: ``examples`` inputs, the same ones on every
    run (derandomize), no example database, no deadline (a driver starts libtorch)."""
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


def not_an_integer(minimum: int) -> st.SearchStrategy[str]:
    """Text that is not an integer >= ``minimum`` that fits the drivers' integers:
    too small, too large for 32 bits, NaN and infinity spellings, floats, hex,
    full-width digits, empty, random text."""
    return st.one_of(
        st.integers(-(2**40), minimum - 1).map(str),
        st.integers(2**31, 2**70).map(str),
        st.sampled_from(["nan", "NaN", "inf", "-inf", "1e400", "2.5", "0x10", "", " ", "１２"]),
        st.text(alphabet=string.ascii_letters + "-+.!é", min_size=1, max_size=12),
    )


def bad_path() -> st.SearchStrategy[str]:
    """Model paths that do not exist: long, non-ASCII, with spaces, empty."""
    return st.one_of(
        st.text(alphabet=string.ascii_letters + "/._-", min_size=300, max_size=600),
        st.text(alphabet="éßλ模型 ", min_size=1, max_size=40).map(lambda s: f"/tmp/{s}.pt"),
        st.just(""),
    )


def check_refused(
    command: list, kind: str, codes: tuple[int, ...] = (1, 2), key: tuple[str, ...] | None = None
) -> None:
    """Run ``command`` with ``--json`` into a fresh directory: it must exit with one
    of ``codes`` (never a signal), say why on standard error without a backtrace,
    and leave no results file. ``key`` identifies the input among those tried
    (default: the command line)."""
    with tempfile.TemporaryDirectory() as directory:
        results = Path(directory) / "r.json"
        out = run([*command, "--json", results])
        assert out.returncode in codes, (command, out.returncode, out.stderr[-2000:])
        assert out.stderr.strip(), (command, out.stdout[-2000:])
        assert "Backtrace" not in out.stderr and "Error termination" not in out.stderr, out.stderr
        assert not results.exists(), command
    TRIED[kind] += 1
    SEEN.add(key or tuple(str(c) for c in command))


@fuzz(100)
@given(
    fault=st.sampled_from(["ntimes", "N", "unknown option", "option value", "model path"]),
    number=not_an_integer(2),
    word=st.text(alphabet=string.ascii_letters + "_", min_size=1, max_size=15),
    path=bad_path(),
)
def test_large_stride_driver_command_lines(
    build_dir: Path, model_dir: Path, fault: str, number: str, word: str, path: str
) -> None:
    """benchmarker_large_stride_torch <model-dir> <model-file> <ntimes> <N> [options]."""
    args = [model_dir, "large_stride_vectorized_cpu.pt", "2", "4"]
    if fault == "ntimes":
        args[2] = number if number.strip() not in {"1", "2"} else "0"
    elif fault == "N":
        args[3] = number
    elif fault == "unknown option":
        args += [f"--x{word}", "1"]  # "x": never one of the driver's own options
    elif fault == "option value":
        args += [f"--{('threads', 'warmup', 'inject-ns')[len(word) % 3]}", number]
        if number.strip().lstrip("+").isdigit() and 0 <= int(number) < 2**31:
            args[-1] = "-1"
    else:
        args[1] = path
    codes = (1,) if fault == "model path" else (2,)
    check_refused(
        [build_dir / "bin" / "benchmarker_large_stride_torch", *args], "command line", codes
    )


@fuzz(70)
@given(
    entry=st.one_of(
        st.text(alphabet="0123456789x:-", min_size=0, max_size=20),
        st.lists(st.integers(-5, 3), min_size=1, max_size=6).map(
            lambda sizes: "x".join(map(str, sizes)) + ":float32"
        ),
        st.sampled_from(["2x3:int8", "2x3:float16", "2x3", ":float32", "2x3x4x5x6:float64"]),
    ),
    repeat=st.booleans(),
)
def test_generic_driver_signatures(
    build_dir: Path, model_dir: Path, entry: str, repeat: bool
) -> None:
    """benchmarker_model_torch with malformed, zero, negative, high-rank or wrongly
    typed --inputs; sometimes the option repeated (the last one counts)."""
    valid = entry.count(":") == 1 and entry.endswith((":float32", ":float64"))
    sizes = entry.split(":")[0].split("x") if valid else []
    if valid and all(s.isdigit() and int(s) >= 1 for s in sizes) and len(sizes) <= 4:
        entry = entry.replace(":", ":int8")  # would be valid: make it a bad dtype
    options = ["--inputs", "3x4:float32"] if repeat else []
    command = [build_dir / "bin" / "benchmarker_model_torch", model_dir / "mm_float32.pt", "2"]
    command += [*options, "--inputs", entry, "--references", "r.bin", "--rtol", "1e-6"]
    check_refused(command, "signature", (2,))


def _model_bytes(kind: str, data: bytes, cut: int, real: bytes) -> bytes:
    if kind == "truncated":
        return real[: max(1, min(cut, len(real) - 1))]
    if kind == "zip":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr(f"model/{cut % 7}.bin", data)
            archive.writestr("model/data.pkl", data[::-1])
        return buffer.getvalue()
    return data


@fuzz(100)
@given(
    kind=st.sampled_from(["truncated", "random bytes", "zip"]),
    data=st.binary(min_size=0, max_size=2048),
    cut=st.integers(1, 10**7),
    program=st.sampled_from(["benchmarker_large_stride_torch", "benchmarker_model_torch"]),
)
def test_bad_model_files(
    build_dir: Path, model_dir: Path, kind: str, data: bytes, cut: int, program: str
) -> None:
    """Truncated TorchScript archives, random bytes and zips that are not models,
    loaded by the large-stride and the generic direct drivers: one line, exit 1."""
    real = (model_dir / "large_stride_vectorized_cpu.pt").read_bytes()
    with tempfile.TemporaryDirectory() as directory:
        model = Path(directory) / "bad.pt"
        content = _model_bytes(kind, data, cut, real)
        model.write_bytes(content)
        key = (program, kind, hashlib.sha256(content).hexdigest())
        if program == "benchmarker_large_stride_torch":
            command = [build_dir / "bin" / program, directory, "bad.pt", "2", "4"]
        else:
            command = [build_dir / "bin" / program, model, "2", "--inputs", "4x4:float32"]
            command += ["--references", model, "--rtol", "1e-6"]
        check_refused(command, f"model file: {kind}", (1,), key)


@pytest.mark.parametrize(
    ("model", "args"),
    [
        ("two_in_two_out.pt", ["2", "4"]),
        ("mm_float32.pt", ["2", "4"]),
        ("index_probe.pt", ["2", "1"]),
    ],
)
def test_valid_models_with_another_signature(
    build_dir: Path, model_dir: Path, model: str, args: list[str]
) -> None:
    """Real TorchScript models whose forward does not take what the driver passes
    (or N below its minimum): refused, never a wrong answer passed as right."""
    command = [build_dir / "bin" / "benchmarker_large_stride_torch", model_dir, model, *args]
    check_refused(command, "other signature")


EMULATOR_PARTS: dict[str, dict[str, str]] = {
    "module": {
        "fine": "import torch\n",
        "raises at import": "import torch\nraise RuntimeError('broken at import')\n",
        "imports a missing package": "import torch\nimport no_such_package_here\n",
        "has a syntax error": "import torch\ndef broken(:\n    pass\n",
    },
    "initialize": {
        "fine": "def initialize(variant):\n    return double_and_negate\n",
        "missing": "def initialise(variant):\n    return double_and_negate\n",
        "raises": "def initialize(variant):\n    raise ValueError('no model')\n",
        "returns None": "def initialize(variant):\n    return None\n",
        "takes no arguments": "def initialize():\n    return double_and_negate\n",
    },
    "metadata": {
        "fine": "def metadata(model):\n    return '{}'\n",
        "missing": "def meta_data(model):\n    return '{}'\n",
        "returns not JSON": "def metadata(model):\n    return 'not json {'\n",
        "returns a number": "def metadata(model):\n    return 42\n",
        "raises": "def metadata(model):\n    raise KeyError('metadata')\n",
    },
    "compute": {
        "fine": "def compute(model, x, y):\n    y[...] = model(x)\n",
        "missing": "def calculate(model, x, y):\n    y[...] = model(x)\n",
        "takes other arguments": "def compute(model, x):\n    pass\n",
        "writes the wrong shape": "def compute(model, x, y):\n    y[...] = model(x)[:2]\n",
        "writes a tensor of another shape": (
            "def compute(model, x, y):\n    torch.from_numpy(y).copy_(torch.ones(3, 5))\n"
        ),
        "raises": "def compute(model, x, y):\n    raise FloatingPointError('diverged')\n",
        "calls a missing attribute": "def compute(model, x, y):\n    y[...] = model.forward(x)\n",
    },
}
"""The parts of an embedded-path module (``benchmarker_large_stride_forpy``'s
interface: initialize, metadata, compute) and the ways a user's can be broken:
missing functions, wrong signatures, wrong return types, raising at import or in
a call, writing the wrong shape. A module of "fine" parts passes the checks."""

MODEL = "def double_and_negate(x):\n    out = 2 * x\n    out[0, 1] = -out[0, 1]\n    return out\n"


def emulator_source(choice: dict[str, str]) -> str:
    """The module with the part ``choice[part]`` for each part."""
    return (
        EMULATOR_PARTS["module"][choice["module"]]
        + MODEL
        + "".join(
            EMULATOR_PARTS[part][choice[part]] for part in ("initialize", "metadata", "compute")
        )
    )


def test_fine_emulator_module_passes(build_dir: Path, tmp_path: Path) -> None:
    """The generator's baseline: a module of fine parts runs and passes its checks, so
    every refusal below comes from its fault."""
    (tmp_path / "user_emulator.py").write_text(
        emulator_source(dict.fromkeys(EMULATOR_PARTS, "fine"))
    )
    command = [build_dir / "bin" / "benchmarker_large_stride_forpy", tmp_path, "user_emulator"]
    out = run([*command, "2", "4", "--torchscript", "none"])
    assert out.returncode == 0, out.stdout + out.stderr


EMULATOR_FAULTS = [(p, f) for p, options in EMULATOR_PARTS.items() for f in options if f != "fine"]


@fuzz(30)
@given(
    faults=st.lists(
        st.sampled_from(EMULATOR_FAULTS), min_size=1, max_size=2, unique_by=lambda f: f[0]
    )
)
def test_bad_emulator_modules(build_dir: Path, faults: list[tuple[str, str]]) -> None:
    """Embedded-path modules with one or two broken parts (faults drawn from
    EMULATOR_PARTS, the other parts fine): one clear message naming the module or
    the call, exit 1, no results file."""
    choice = dict.fromkeys(EMULATOR_PARTS, "fine") | dict(faults)
    with tempfile.TemporaryDirectory() as directory:
        source = emulator_source(choice)
        (Path(directory) / "user_emulator.py").write_text(source)
        command = [build_dir / "bin" / "benchmarker_large_stride_forpy", directory, "user_emulator"]
        key = ("emulator", hashlib.sha256(source.encode()).hexdigest())
        check_refused([*command, "2", "4", "--torchscript", "none"], "emulator module", (1,), key)


INPUT_FIELDS = ("uuu", "vvv", "psfc", "lat", "gwfu_ref", "gwfv_ref")
INPUT_ATTRIBUTES = (
    "checkpoint_sha256",
    "reference_threads",
    "reference_cpu_model",
    "reference_blas",
)


def _write_inputs(good: Path, bad: Path, fault: str, name: str, draw: int) -> None:
    """A copy of the inputs directory ``good`` with one ``fault`` in the file of
    variable or attribute ``name`` (``draw`` picks positions and sizes)."""
    import shutil

    import numpy as np

    shutil.copytree(good, bad)
    target = bad / f"{name}.npy"
    data = target.read_bytes()
    if fault == "missing file":
        target.unlink()
        return
    if fault in ("random bytes", "truncated"):
        content = (
            data[: 1 + draw % (len(data) - 1)]
            if fault == "truncated"
            else (np.random.default_rng(draw).bytes(1 + draw % 4096))
        )
        target.write_bytes(content)
        return
    values = np.load(target)
    if fault == "wrong shape":
        axis = draw % values.ndim
        size = values.shape[axis] + (-1, 1, -(values.shape[axis] // 2))[draw // 3 % 3]
        values = np.resize(np.moveaxis(values, axis, 0), (size, *np.delete(values.shape, axis)))
        values = np.moveaxis(values, 0, axis)
    elif fault == "wrong rank":
        values = values[0]
    elif fault == "C order":
        np.save(target, np.ascontiguousarray(values))
        return
    elif fault == "wrong dtype":
        if values.dtype.kind == "S":  # a text attribute: a number instead
            values = np.array(draw, dtype=(np.float64, np.int64)[draw % 2])
        else:
            values = values.astype((np.float32, np.int32, np.complex128)[draw % 3])
    elif fault == "non-finite":
        flat = values.reshape(-1, order="F").copy()
        rng = np.random.default_rng(draw)
        spots = rng.choice(flat.size, size=1 + draw % 5, replace=False)
        flat[spots] = rng.choice([np.nan, np.inf, -np.inf], size=spots.size)
        values = flat.reshape(values.shape, order="F")
    np.save(target, np.asfortranarray(values) if values.ndim > 1 else values)


@fuzz(40)
@given(
    fault=st.sampled_from(
        [
            "missing file",
            "wrong shape",
            "wrong rank",
            "C order",
            "wrong dtype",
            "non-finite",
            "random bytes",
            "truncated",
        ]
    ),
    field=st.sampled_from(INPUT_FIELDS),
    attribute=st.sampled_from(INPUT_ATTRIBUTES),
    on_attribute=st.booleans(),
    draw=st.integers(0, 10**6),
)
def test_bad_inputs(
    build_dir: Path,
    model_dir: Path,
    fault: str,
    field: str,
    attribute: str,
    on_attribute: bool,
    draw: int,
) -> None:
    """The cgdrag driver on an inputs directory with one file missing, of another
    shape, rank, order or dtype, with NaN or infinite values in any field (inputs or
    references, anywhere in the rows read), truncated, or not a .npy file at all:
    one line naming the file and the fix, exit 1, no results file. Attributes
    (scalars) get the faults that apply to them."""
    name = field
    if on_attribute and fault in ("missing file", "wrong dtype", "random bytes", "truncated"):
        name = attribute
    if fault in ("wrong rank", "C order") and name == "lat":
        name = "psfc"  # lat is 1-D: it has no lower rank worth testing and no order
    with tempfile.TemporaryDirectory() as directory:
        bad = Path(directory) / "bad"
        _write_inputs(model_dir / "data" / "cgdrag_t42", bad, fault, name, draw)
        target = bad / f"{name}.npy"
        content = target.read_bytes() if target.exists() else b""
        key = ("inputs", fault, name, hashlib.sha256(content).hexdigest())
        command = [build_dir / "bin" / "benchmarker_cgdrag_torch", model_dir, "cgdrag_cpu.pt"]
        # Drivers read only the rows they use (an MPI rank its band): a NaN is refused
        # where it is read, so the non-finite cases read the whole grid (refused
        # before the model load); the others 1 row.
        columns = "8192" if fault == "non-finite" else "128"
        check_refused(
            [*command, "1", "--data", bad, "--columns", columns], f"inputs: {fault}", (1,), key
        )


def test_enough_distinct_bad_inputs_were_tried() -> None:
    """Runs last in this module: the generated inputs above add up to the goal."""
    if len(TRIED) == 0:
        pytest.skip("run with the whole module")
    print(f"\nbad inputs tried: {dict(TRIED)}; distinct inputs: {len(SEEN)}")
    assert len(SEEN) >= MINIMUM_DISTINCT
