"""What the embedded path's Python modules (models/*_emulator.py) share.

Those modules hand models to Fortran as opaque objects; this module remembers
what each model is, so that their ``metadata(model)`` can describe it for the
results file.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from ftbench.export import load_with_metadata

_METADATA: dict[int, dict[str, str]] = {}


def remember(model: torch.nn.Module, metadata: dict[str, str]) -> torch.nn.Module:
    """Record ``metadata`` for ``model`` and return the model."""
    _METADATA[id(model)] = metadata
    return model


def load_torchscript(path: str | Path) -> torch.jit.ScriptModule:
    """Load a TorchScript file (``ftbench export``) in eval mode and remember its metadata.

    Raises:
        ValueError: the file does not exist.
        RuntimeError: the file is not TorchScript.
    """
    model, metadata = load_with_metadata(path)
    return remember(model, metadata)


def metadata_json(model: torch.nn.Module) -> str:
    """JSON text describing ``model`` (``"{}"`` for a model never remembered)."""
    return json.dumps(_METADATA.get(id(model), {}))
