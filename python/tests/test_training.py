"""Training through the direct layer (fortran/torch/torch_training_mod.f90), run by
fortran/tests/test_torch_training.f90 and checked against PyTorch in Python: the loss,
the gradient with respect to the input (read through an attached Fortran array, no
copy), three SGD and three Adam steps, the saved weights, and the refused operations.

Tolerance: both sides run the same float64 libtorch kernels on the same values; the
C++ and Python optimisers evaluate the same update formulas in possibly different
orders. 1e-12 relative (about 4500 float64 rounding units) bounds that over 6 steps of a
21-parameter model; a wrong gradient, step or learning rate moves the numbers by far
more (the losses change in the second digit per step)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from conftest import run

RTOL = 1e-12


def inputs() -> tuple[torch.Tensor, torch.Tensor]:
    """x[i-1, j-1] = sin(i + 3 j) (5 x 3), y[i-1, k-1] = cos(i k) / 2 (5 x 2), float64."""
    x = [[math.sin(i + 3 * j) for j in range(1, 4)] for i in range(1, 6)]
    y = [[math.cos(i * k) / 2 for k in range(1, 3)] for i in range(1, 6)]
    return torch.tensor(x, dtype=torch.float64), torch.tensor(y, dtype=torch.float64)


@pytest.fixture(scope="module")
def fortran(build_dir: Path, model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The test program's printed values by key, its error lines, and its output directory."""
    out_dir = tmp_path_factory.mktemp("training")
    out = run([build_dir / "tests" / "test_torch_training", model_dir, out_dir])
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.strip().endswith("ALL PASSED")
    values: dict = {"errors": {}, "out_dir": out_dir}
    for line in out.stdout.splitlines():
        key, _, rest = line.partition(" ")
        if key == "error":
            what, _, message = rest.partition(": ")
            values["errors"][what] = message
        elif key in ("loss", "dx", "sgd_losses", "adam_losses"):
            values[key] = np.array([float(v) for v in rest.split()])
        elif key == "dx_zero_copy":
            values[key] = rest.strip() == "T"
    return values


def python_run(model_dir: Path) -> dict:
    """The same steps in Python: loss and input gradient, then 3 SGD (lr 0.1) and 3 Adam
    (lr 0.01) steps, each step's loss taken before its update."""
    model = torch.jit.load(str(model_dir / "train_mlp.pt"))
    x, y = inputs()
    x.requires_grad_(True)
    loss = F.mse_loss(model(x), y)
    loss.backward()
    result = {"loss": loss.item(), "dx": x.grad.detach().numpy().copy()}
    x = x.detach()
    for name, optimizer in (
        ("sgd_losses", torch.optim.SGD(model.parameters(), lr=0.1)),
        ("adam_losses", torch.optim.Adam(model.parameters(), lr=0.01)),
    ):
        losses = []
        for _ in range(3):
            optimizer.zero_grad()
            loss = F.mse_loss(model(x), y)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        result[name] = np.array(losses)
    result["state"] = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    return result


def test_loss_and_input_gradient_equal_pytorch(fortran: dict, model_dir: Path) -> None:
    expected = python_run(model_dir)
    np.testing.assert_allclose(fortran["loss"], [expected["loss"]], rtol=RTOL)
    # Fortran prints dx column-major: compare with the transposed C-ordered gradient
    np.testing.assert_allclose(fortran["dx"], expected["dx"].reshape(-1, order="F"), rtol=RTOL)


def test_pytorch_gradient_is_the_true_one(model_dir: Path) -> None:
    """gradcheck (finite differences, float64) on the function the layer differentiated,
    so that equal to PyTorch means correct."""
    model = torch.jit.load(str(model_dir / "train_mlp.pt"))
    x, y = inputs()
    assert torch.autograd.gradcheck(
        lambda v: F.mse_loss(model(v), y), (x.requires_grad_(True),), eps=1e-6, atol=1e-8
    )


def test_gradient_read_without_a_copy(fortran: dict) -> None:
    """The gradient arrived in the Fortran array that was attached (zeroed at attach,
    never copied into: the layer has no copy call for it) and is not zero."""
    assert fortran["dx_zero_copy"] and np.any(fortran["dx"] != 0)


def test_optimiser_steps_and_saved_weights_equal_pytorch(fortran: dict, model_dir: Path) -> None:
    expected = python_run(model_dir)
    np.testing.assert_allclose(fortran["sgd_losses"], expected["sgd_losses"], rtol=RTOL)
    np.testing.assert_allclose(fortran["adam_losses"], expected["adam_losses"], rtol=RTOL)
    assert np.all(np.diff(fortran["sgd_losses"]) < 0), "SGD did not lower the loss"
    trained = torch.jit.load(str(fortran["out_dir"] / "trained.pt"))
    state = {k: v.detach().numpy() for k, v in trained.state_dict().items()}
    assert state.keys() == expected["state"].keys()
    untrained = torch.jit.load(str(model_dir / "train_mlp.pt")).state_dict()
    for name, value in state.items():
        np.testing.assert_allclose(value, expected["state"][name], rtol=RTOL, err_msg=name)
        assert not np.array_equal(value, untrained[name].numpy()), f"{name} was not trained"


@pytest.mark.parametrize(
    ("case", "message"),
    [
        (
            "backward of a tensor that does not require grad",
            "torch_tensor_backward: backward failed: the tensor does not require grad",
        ),
        (
            "loss of the wrong shape",
            "torch_loss_mse: cannot compute the MSE loss: prediction is float64 [5, 2] but "
            "target is float64 [5, 3] (they must match: no broadcasting)",
        ),
        (
            "backward of a non-scalar",
            "backward needs a scalar (a loss); this tensor has shape [5, 2]",
        ),
        (
            "optimiser on a model with frozen parameters",
            "the model has no parameter that requires grad (all frozen): nothing to train",
        ),
        ("negative learning rate", "the learning rate must be positive"),
        (
            "gradient array on a tensor that does not require grad",
            "the tensor does not require grad (torch_tensor_requires_grad first)",
        ),
        (
            "copy into an array of another shape",
            "the array is float64 [3] but the tensor is float64 [5, 3]",
        ),
        (
            "optimiser on an AOTInductor package",
            "is an AOTInductor package: its compiled code runs forward only",
        ),
        (
            "save to a directory that does not exist",
            "torch_model_save: cannot save the model to '/nonexistent-directory/trained.pt'",
        ),
    ],
)
def test_refused_operations(fortran: dict, case: str, message: str) -> None:
    assert message in fortran["errors"][case], fortran["errors"][case]


# ---- the online-training benchmark (cgdrag_train) on every path ----

TRAIN_PATHS = {
    "direct": ["benchmarker_cgdrag_train_torch", "cgdrag_cpu.pt"],
    "embedded python model": [
        "benchmarker_cgdrag_train_forpy",
        "cgdrag_emulator",
        "--torchscript",
        "none",
    ],
    "embedded torchscript": [
        "benchmarker_cgdrag_train_forpy",
        "cgdrag_emulator",
        "--torchscript",
        "cgdrag_cpu.pt",
    ],
}
STEPS = 3  # after 1 warm-up step: 4 training steps


def python_trained(model_dir: Path, steps: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Losses and weights after ``steps`` steps of :func:`ftbench.training.reference_losses`
    from the test checkpoint, 1 thread (as ``ftbench inputs`` made the references)."""
    from ftbench import inputs, training
    from ftbench.models import wavenet

    data = inputs.read_inputs(model_dir / "data" / "cgdrag_t42")
    lat2d = np.broadcast_to(data["lat"][np.newaxis, :], data["psfc"].shape)
    model = wavenet.build(model_dir / "wavenet_checkpoint.pt")
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        losses = training.reference_losses(
            model,
            inputs.columns(data["uuu"]),
            inputs.columns(lat2d),
            inputs.columns(data["psfc"]),
            inputs.columns(data["gwfu_ref"]),
            steps,
        )
    finally:
        torch.set_num_threads(previous)
    return losses, {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("path", [*TRAIN_PATHS, "native C++", "native Python"])
def test_online_training_on_every_path(
    build_dir: Path, model_dir: Path, tmp_path: Path, path: str
) -> None:
    """Every path trains as the native Python reference: each step's loss checked
    against the reference (the driver's own check), the losses falling, the phases of
    ftbench.training, and (where the path saves them) the trained weights equal to
    Python's after the same steps within RTOL."""
    import sys

    from ftbench import training
    from ftbench.results import load

    results, saved = tmp_path / "r.json", tmp_path / "trained.pt"
    if path in TRAIN_PATHS:
        driver, *args = TRAIN_PATHS[path]
        command = [build_dir / "bin" / driver, model_dir, args[0], STEPS, *args[1:]]
        command += ["--save", saved]
    elif path == "native C++":
        command = [build_dir / "bin" / "benchmarker_native_cpp", model_dir, "cgdrag_cpu.pt", STEPS]
        command += ["cgdrag_train"]
    else:
        command = [sys.executable, "-m", "ftbench.cli", "native", "cgdrag_train", STEPS]
        command += ["--models", model_dir]
    quiet = [] if path == "native C++" else ["--quiet"]  # the C++ baseline always prints
    out = run([*command, "--threads", 1, *quiet, "--json", results])
    assert out.returncode == 0, out.stdout + out.stderr
    data = load(results).data
    assert data["benchmark"] == "cgdrag_train" and data["correctness"]["passed"]
    assert data["phase_order"] == list(training.PHASES)
    assert data["sizes"]["training_columns"] == 1024
    settings = training.settings()
    assert data["training"]["learning_rate"] == settings.learning_rate
    assert data["training"]["target_scale"] == settings.target_scale
    losses = np.array(data["training"]["losses"])
    expected, weights = python_trained(model_dir, STEPS + 1)
    np.testing.assert_allclose(losses, expected, rtol=RTOL)
    assert np.all(np.diff(losses) < 0), f"the loss did not fall: {losses}"
    assert {"model load", "optimiser creation"} <= set(data["once"])
    if path not in TRAIN_PATHS:
        return
    if path == "direct":
        state = {k: v.numpy() for k, v in torch.jit.load(str(saved)).state_dict().items()}
    else:
        state = {k: v.numpy() for k, v in torch.load(saved).items()}
    assert state.keys() >= weights.keys()
    for name, value in weights.items():
        np.testing.assert_allclose(state[name], value, rtol=RTOL, atol=1e-300, err_msg=name)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        ([33], 1, "has reference losses for 32 steps, the run asks for 34 (warm-up included)"),
        ([2, "--columns", 4096], 2, "--columns: online training runs on the whole grid (8192)"),
    ],
)
def test_training_driver_refusals(
    build_dir: Path, model_dir: Path, tmp_path: Path, args: list, code: int, message: str
) -> None:
    for driver, model in (
        ("benchmarker_cgdrag_train_torch", "cgdrag_cpu.pt"),
        ("benchmarker_cgdrag_train_forpy", "cgdrag_emulator"),
    ):
        out = run(
            [build_dir / "bin" / driver, model_dir, model, *args, "--json", tmp_path / "r.json"]
        )
        assert out.returncode == code, out.stdout + out.stderr
        assert message in out.stderr
        assert not (tmp_path / "r.json").exists()


def test_training_refuses_an_aoti_package(build_dir: Path, model_dir: Path) -> None:
    out = run(
        [build_dir / "bin" / "benchmarker_cgdrag_train_torch", model_dir, "cgdrag_cpu.pt2", 1]
    )
    assert out.returncode == 1
    assert "is an AOTInductor package: its compiled code runs forward only" in out.stderr
    out = run(
        [build_dir / "bin" / "benchmarker_cgdrag_train_forpy", model_dir, "cgdrag_emulator", 1]
        + ["--aoti", "cgdrag_cpu.pt2"]
    )
    assert out.returncode == 1
    assert "an AOTInductor package runs forward only" in out.stderr
