"""WaveNet-2: the gravity-wave drag emulator of Espinosa et al. (2022) as coupled into MiMA.

Z. I. Espinosa, A. Sheshadri, G. R. Cain, E. P. Gerber and K. J. DallaSanta (2022),
"Machine learning gravity wave parameterization generalizes to capture the QBO and
response to increased CO2", Geophysical Research Letters 49, e2022GL098174,
doi:10.1029/2022GL098174.

The architecture is fixed so that published checkpoints load (float64 throughout):

* ``shared`` (``nn.Sequential``): ``BatchNorm1d(42)``, ``Linear(42, 256)``, ``ReLU``,
  4 x (``Linear(256, 256)``, ``ReLU``), ``Linear(256, 64)``, ``ReLU``;
* ``branches`` (``nn.ModuleList`` of 40 ``nn.Sequential(Linear(64, 32), ReLU, Linear(32, 1))``),
  one per vertical level, stacked to shape (ncol, 40);
* output un-standardised as ``Y * stds + means`` (both of shape (40,), kept as
  non-persistent buffers so the state dict has exactly the published keys).

``forward(wind, lat, pressure)`` takes wind (ncol, 40) in m/s, latitude (ncol, 1) in
degrees and surface pressure (ncol, 1) in Pa, concatenated in that order into
(ncol, 42) features, and returns the drag (ncol, 40) in m/s^2.

Checkpoints follow the published layout: ``torch.load`` gives
``{"weights": state_dict, "means": tensor(40), "stds": tensor(40)}``.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

N_LEVELS = 40
"""Vertical levels of the wind column and of the drag."""
N_FEATURES = N_LEVELS + 2
"""Input features: the wind column, latitude and surface pressure."""
SYNTHETIC_SEED = 20220405
"""Seed of the synthetic (untrained) weights."""


class WaveNet(nn.Module):
    """The WaveNet-2 emulator (see the module docstring for the architecture)."""

    def __init__(self, means: torch.Tensor | None = None, stds: torch.Tensor | None = None) -> None:
        """Build the network with default-initialised weights.

        Args:
            means: output means (40,), float64; zeros if None.
            stds: output standard deviations (40,), float64; ones if None.
        """
        super().__init__()
        layers: list[nn.Module] = [
            nn.BatchNorm1d(N_FEATURES),
            nn.Linear(N_FEATURES, 256),
            nn.ReLU(),
        ]
        for _ in range(4):
            layers += [nn.Linear(256, 256), nn.ReLU()]
        layers += [nn.Linear(256, 64), nn.ReLU()]
        self.shared = nn.Sequential(*layers)
        self.branches = nn.ModuleList(
            [nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 1)) for _ in range(N_LEVELS)]
        )
        zeros = torch.zeros(N_LEVELS, dtype=torch.float64)
        self.register_buffer("means", zeros if means is None else means.double(), persistent=False)
        self.register_buffer("stds", zeros + 1 if stds is None else stds.double(), persistent=False)
        self.double()

    def forward(
        self, wind: torch.Tensor, lat: torch.Tensor, pressure: torch.Tensor
    ) -> torch.Tensor:
        """Gravity-wave drag from one wind component.

        Args:
            wind: (ncol, 40) float64, zonal or meridional wind in m/s, level 1 at the top.
            lat: (ncol, 1) float64, latitude in degrees.
            pressure: (ncol, 1) float64, surface pressure in Pa.
        Returns:
            (ncol, 40) float64 drag in m/s^2 on the same levels.
        """
        features = torch.cat([wind, lat, pressure], dim=1)
        z = self.shared(features)
        levels = [branch(z) for branch in self.branches]
        return torch.cat(levels, dim=1) * self.stds + self.means


def parameter_count(model: nn.Module) -> int:
    """Number of trainable parameters (375,228 for WaveNet-2)."""
    return sum(p.numel() for p in model.parameters())


def synthetic_checkpoint() -> dict[str, object]:
    """A deterministic stand-in for a trained checkpoint, in the published layout.

    Weights are Xavier-uniform and biases zero, from a fixed seed; the batch-norm
    statistics match the inputs of ``ftbench.inputs`` (wind ~ 0 +- 20 m/s,
    latitude 0 +- 52 degrees, surface pressure 1e5 +- 1e3 Pa); output means and
    standard deviations are of the order of observed gravity-wave drag (1e-6 to
    1e-4 m/s^2, largest aloft). As in the published checkpoint, the lowest level
    (index 40) has mean = std = 0, so its output is exactly zero.
    """
    generator = torch.Generator().manual_seed(SYNTHETIC_SEED)
    model = WaveNet()
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.Linear):
                bound = (6.0 / (module.in_features + module.out_features)) ** 0.5
                module.weight.copy_(
                    (
                        torch.rand(module.weight.shape, generator=generator, dtype=torch.float64)
                        * 2
                        - 1
                    )
                    * bound
                )
                module.bias.zero_()
        norm = model.shared[0]
        norm.running_mean.copy_(torch.tensor([0.0] * N_LEVELS + [0.0, 1.0e5], dtype=torch.float64))
        norm.running_var.copy_(
            torch.tensor([20.0**2] * N_LEVELS + [52.0**2, 1.0e3**2], dtype=torch.float64)
        )
    level = torch.arange(N_LEVELS, dtype=torch.float64)
    stds = 1.0e-4 * torch.exp(-level / 10.0)
    means = 1.0e-6 * torch.sin(level)
    stds[-1] = 0.0
    means[-1] = 0.0
    return {"weights": model.state_dict(), "means": means, "stds": stds}


def save_checkpoint(checkpoint: dict[str, object], path: Path) -> None:
    """Write a checkpoint (``torch.save``) in the published layout."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(checkpoint, path)


def load_checkpoint(path: Path) -> dict[str, object]:
    """Read a checkpoint in the published layout (tensors only: ``weights_only=True``).

    Raises:
        FileNotFoundError: no such file.
        ValueError: the file is not a dict with "weights", "means" and "stds".
    """
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(checkpoint, dict) or not {"weights", "means", "stds"} <= set(checkpoint):
        raise ValueError(
            f"{path}: not a WaveNet checkpoint (need a dict with 'weights', 'means' and 'stds')"
        )
    return checkpoint


def build(checkpoint: dict[str, object] | Path | None = None) -> WaveNet:
    """WaveNet-2 in eval mode from a checkpoint (a dict or a file), or the synthetic one.

    Raises:
        RuntimeError: the state dict does not match the architecture (missing or
            unexpected keys, wrong shapes).
    """
    if checkpoint is None:
        checkpoint = synthetic_checkpoint()
    elif not isinstance(checkpoint, dict):
        checkpoint = load_checkpoint(Path(checkpoint))
    model = WaveNet(checkpoint["means"], checkpoint["stds"])  # type: ignore[arg-type]
    model.load_state_dict(checkpoint["weights"])  # type: ignore[arg-type]
    return model.eval()
