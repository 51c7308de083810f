"""``ftbench run-model``: any TorchScript model through every path, in one command.

The steps (docs/run-model.md):

1. :func:`prepare` loads the model in Python, feeds it the declared inputs
   (:func:`ftbench.signature.model_input`, the rule every path follows), and
   writes the case: ``case.json`` (signature, outputs, tolerance and its basis)
   and one raw reference file per output (column-major bytes, made on 1 thread).
   A model that rejects the declared inputs is reported with the signature its
   ``forward`` declares.
2. :func:`ftbench.suite.model_runs` lists the native Python baseline (``ftbench native model``) and
   the two coupling paths (``benchmarker_model_torch``, ``benchmarker_model_forpy``),
   run by :func:`ftbench.suite.run_suite` in shuffled passes with a progress bar;
   every iteration of every run is checked against the references.
3. The report (one table plus per-phase medians and plots) from those runs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ftbench import checks, signature
from ftbench.export import load_with_metadata
from ftbench.signature import SignatureError, TensorSpec

CASE_FILE = "case.json"


@dataclass(frozen=True)
class ModelCase:
    """What every path of a run-model measurement reads.

    Attributes:
        name: benchmark name in the results (the model file's stem by default).
        model: the TorchScript file.
        inputs, outputs: signatures (``SIZExSIZE...:DTYPE``, PyTorch order).
        references: one raw column-major file per output.
        rounding_units: K of the tolerance; operations: floating-point operations counted.
        rtol: K u of the outputs' dtype (u of float32 when any output is float32).
        basis: how the tolerance was set (``checks.json`` ``model.basis``).
        reference_conditions: CPU, BLAS, threads and torch of the references.
    """

    name: str
    model: str
    inputs: list[str]
    outputs: list[str]
    references: list[str]
    rounding_units: int
    operations: int
    rtol: float
    basis: str
    reference_conditions: dict[str, Any]

    @property
    def input_specs(self) -> list[TensorSpec]:
        """The inputs, parsed."""
        return [signature.parse(text) for text in self.inputs]

    @property
    def output_specs(self) -> list[TensorSpec]:
        """The outputs, parsed."""
        return [signature.parse(text) for text in self.outputs]


def load_case(path: Path) -> ModelCase:
    """Read a ``case.json`` that :func:`prepare` wrote.

    Raises:
        FileNotFoundError: no such file.
    """
    return ModelCase(**json.loads(Path(path).read_text()))


def _forward_description(model: Any) -> str:
    """The model's forward signature as TorchScript records it, without ``self``:
    ``forward(Tensor image, Tensor column) -> (Tensor, Tensor)``, for messages."""
    schema = getattr(getattr(model, "forward", None), "schema", None)
    if schema is None:
        return "forward(...)"
    arguments = ", ".join(f"{a.type} {a.name}" for a in schema.arguments[1:])
    returns = ", ".join(str(r.type) for r in schema.returns)
    return f"forward({arguments}) -> {returns}"


def prepare(model_path: Path, specs: Sequence[TensorSpec], directory: Path, name: str) -> ModelCase:
    """Run the model once in Python on the declared inputs (1 intra-op thread) and
    write the case into ``directory``: the references and ``case.json``.

    Raises:
        FileNotFoundError: no such model file.
        SignatureError: the model is not TorchScript, rejects the inputs (the message
            gives its forward's signature), or returns something the drivers cannot
            check (not float32/float64 tensors of rank 1 to 4, more than 8 outputs).
    """
    if not model_path.is_file():
        raise FileNotFoundError(f"{model_path}: no such model file")
    if model_path.suffix == ".pt2":
        raise SignatureError(
            f"{model_path}: run-model takes TorchScript files for now (the tolerance is "
            "counted from the operations TorchScript dispatches); pass the .pt file"
        )
    try:
        model, _ = load_with_metadata(model_path)
    except RuntimeError as error:
        raise SignatureError(
            f"{model_path} is not a TorchScript file ({str(error).splitlines()[0]}); "
            "save the model with torch.jit.save(torch.jit.script(model), path)"
        ) from None
    inputs = [torch.from_numpy(signature.model_input(s, k)) for k, s in enumerate(specs)]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.inference_mode():
            result = model(*inputs)
        units, operations = signature.rounding_units(model, inputs)
    except Exception as error:  # noqa: BLE001 - any model error is the user's to see
        lines = [line.strip() for line in str(error).splitlines() if line.strip()]
        first = lines[0] if lines else type(error).__name__
        telling = next((line for line in reversed(lines) if "Error" in line), first)
        telling = telling.split(". Declaration:")[0]
        raise SignatureError(
            f"{model_path}: forward rejected inputs {signature.join(specs)}: {telling}; the "
            f"model declares {_forward_description(model)}"
        ) from None
    finally:
        torch.set_num_threads(threads)
    results = list(result) if isinstance(result, tuple | list) else [result]
    if len(results) > signature.MAX_OUTPUTS:
        raise SignatureError(
            f"{model_path} returns {len(results)} outputs; the drivers check at most "
            f"{signature.MAX_OUTPUTS}"
        )
    outputs = []
    for k, tensor in enumerate(results, start=1):
        dtype = str(getattr(tensor, "dtype", "")).removeprefix("torch.")
        if not isinstance(tensor, torch.Tensor) or dtype not in signature.DTYPES:
            raise SignatureError(
                f"{model_path}: output {k} is {type(tensor).__name__} {dtype}; the drivers "
                "check float32 and float64 tensors"
            )
        if not 1 <= tensor.dim() <= signature.MAX_RANK:
            raise SignatureError(
                f"{model_path}: output {k} has rank {tensor.dim()}; the drivers check ranks "
                f"1 to {signature.MAX_RANK}"
            )
        outputs.append(TensorSpec(tuple(tensor.shape), dtype))
    directory.mkdir(parents=True, exist_ok=True)
    references = []
    for k, tensor in enumerate(results, start=1):
        path = directory / f"reference_{k}.bin"
        np.asarray(tensor.numpy()).ravel(order="F").tofile(path)
        references.append(str(path.resolve()))
    u = max(checks.unit_roundoff(spec.dtype) for spec in outputs)
    conditions = checks.rounding_conditions()
    case = ModelCase(
        name=name,
        model=str(model_path.resolve()),
        inputs=[str(s) for s in specs],
        outputs=[str(s) for s in outputs],
        references=references,
        rounding_units=units,
        operations=operations,
        rtol=units * u,
        basis=checks.model_basis(),
        reference_conditions={**conditions, "threads": 1},
    )
    (directory / CASE_FILE).write_text(json.dumps(asdict(case), indent=2) + "\n")
    return case
