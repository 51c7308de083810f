"""The benchmarks' inputs: MiMA-like fields and references for WaveNet-2 (cgdrag),
and the large-stride input rule (:func:`large_stride_input`).

The grid is MiMA's T42 Gaussian grid: 128 longitudes x 64 Gaussian latitudes x
40 levels (level 1 at the top, as in MiMA/FMS). Fields, all float64:

* ``uuu``, ``vvv`` (lev, lat, lon) in m/s: zonal and meridional wind with
  subtropical jets near 200 hPa, a stratospheric polar-night jet, an equatorial
  QBO-like shear in the stratosphere, planetary waves 1-3 and Gaussian noise;
* ``psfc`` (lat, lon) in Pa: about 1e5 with large-scale and random variation;
* ``lat`` (lat) in degrees at the Gaussian points (roots of the Legendre
  polynomial of degree 64, numpy.polynomial.legendre.leggauss);
* ``gwfu_ref``, ``gwfv_ref`` (lev, lat, lon) in m/s^2: WaveNet-2's drag for
  ``uuu`` and ``vvv``, computed in Python (eager PyTorch, float64);
* ``train_loss_ref`` (train_step): the loss of each of the first steps of the
  online-training benchmark (:mod:`ftbench.training`), native Python.

They are written as a directory of NumPy ``.npy`` files, one per variable, in
Fortran order (``numpy.save`` of a Fortran-ordered array: shape (lon, lat, lev),
``fortran_order`` True), plus the file's attributes as scalars (byte strings,
``reference_threads`` an int64). A format that needs no extra C library: the
Fortran drivers and the C++ baseline read it with the project's own small
reader (``fortran/common/bench_npy_c.h``), so the benchmarks build where netCDF
is missing (a GPU machine's image, issue 18). Columns are numbered as in Fortran: column
``c = i + 128 (j - 1)`` is longitude ``i`` and latitude ``j``, so the (8192, 40)
model input is ``uuu`` reshaped in Fortran order. See docs/cgdrag.md.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ftbench import __version__, checks, training
from ftbench.export import file_sha256
from ftbench.models import wavenet

N_LON, N_LAT, N_LEV = 128, 64, wavenet.N_LEVELS
INPUT_SEED = 42


def large_stride_input(n: int, iteration: int) -> np.ndarray:
    """The large-stride input of ``iteration`` (counted from 0, warm-up included): an
    (n, n) float32 array in Fortran order, by the rule of ``checks.json``
    (``large_stride.input``) that the Fortran drivers and the C++ baseline also
    follow: element ``[i, j]`` is ``((row_step i + column_step j + iteration_step
    iteration) mod modulus) / modulus``, in [0, 1) and exact in float32.
    """
    rule = checks.large_stride_input_rule()
    i = np.arange(n, dtype=np.int64)[:, np.newaxis]
    j = np.arange(n, dtype=np.int64)[np.newaxis, :]
    k = rule["iteration_step"] * iteration
    numerator = (rule["row_step"] * i + rule["column_step"] * j + k) % rule["modulus"]
    return np.asfortranarray(numerator.astype(np.float32) / np.float32(rule["modulus"]))


def gaussian_latitudes(n: int = N_LAT) -> np.ndarray:
    """Gaussian latitudes in degrees, south to north (arcsin of the Gauss-Legendre nodes)."""
    nodes, _ = np.polynomial.legendre.leggauss(n)
    return np.degrees(np.arcsin(nodes))


def full_levels(n: int = N_LEV) -> np.ndarray:
    """Pressure of the full levels in Pa, top (0.5 hPa) to bottom (1000 hPa), log-spaced."""
    return np.geomspace(50.0, 1.0e5, n)


def synthetic_fields(seed: int = INPUT_SEED) -> dict[str, np.ndarray]:
    """Winds (lon, lat, lev), surface pressure (lon, lat) and latitudes (lat), in Fortran order.

    Arrays are float64 with shape (128, 64, 40), (128, 64) and (64,).
    """
    rng = np.random.default_rng(seed)
    lat = gaussian_latitudes()
    lon = np.linspace(0.0, 360.0, N_LON, endpoint=False)
    height = -7.0 * np.log(full_levels() / 1.0e5)  # log-pressure height, km
    la, lo, z = np.meshgrid(np.radians(lat), np.radians(lon), height, indexing="ij")
    la, lo, z = (np.moveaxis(a, 0, 1) for a in (la, lo, z))  # (lon, lat, lev)
    phi = np.degrees(la)
    jets = 30.0 * np.exp(-(((np.abs(phi) - 35.0) / 12.0) ** 2) - ((z - 12.0) / 6.0) ** 2)
    polar_night = 60.0 * np.exp(-(((phi + 60.0) / 12.0) ** 2) - ((z - 40.0) / 12.0) ** 2)
    qbo = 25.0 * np.sin(2 * np.pi * z / 14.0) * np.exp(-((phi / 12.0) ** 2)) * (z > 17)
    waves = sum(
        (5.0 / k) * np.cos(k * lo + rng.uniform(0, 2 * np.pi)) * np.cos(la) ** 2 for k in (1, 2, 3)
    )
    uuu = jets + polar_night + qbo + waves * (1 + z / 20) + rng.normal(0.0, 2.0, la.shape)
    vvv = 4.0 * np.sin(2 * la) * np.sin(2 * lo) * np.exp(-(((z - 10.0) / 15.0) ** 2))
    vvv = vvv + waves * 0.5 + rng.normal(0.0, 1.5, la.shape)
    lo2, la2 = lo[:, :, 0], la[:, :, 0]
    psfc = 1.0e5 - 1.5e3 * np.sin(la2) ** 2 + 8.0e2 * np.cos(2 * lo2) * np.cos(la2)
    psfc = psfc + rng.normal(0.0, 3.0e2, psfc.shape)
    return {
        "uuu": np.asfortranarray(uuu),
        "vvv": np.asfortranarray(vvv),
        "psfc": np.asfortranarray(psfc),
        "lat": lat,
    }


def columns(field: np.ndarray) -> np.ndarray:
    """(lon, lat[, lev]) -> (ncol, lev or 1), columns in Fortran order (a view when possible)."""
    ncol = field.shape[0] * field.shape[1]
    return field.reshape((ncol, -1), order="F")


def reference_drag(
    model: torch.nn.Module, wind: np.ndarray, lat: np.ndarray, psfc: np.ndarray
) -> np.ndarray:
    """WaveNet-2 drag (lon, lat, lev) in m/s^2.

    Args:
        wind: (lon, lat, lev) in m/s; lat: (lat,) in degrees; psfc: (lon, lat) in Pa.
    """
    lat2d = np.broadcast_to(lat[np.newaxis, :], psfc.shape)
    with torch.inference_mode():
        drag = model(
            torch.from_numpy(np.ascontiguousarray(columns(wind))),
            torch.from_numpy(np.ascontiguousarray(columns(lat2d))),
            torch.from_numpy(np.ascontiguousarray(columns(psfc))),
        )
    return drag.numpy().reshape(wind.shape, order="F")


HISTORY = f"written by ftbench {__version__} (ftbench inputs)"
"""The ``history`` attribute: inputs written by another version are rewritten."""
FIELDS = ("uuu", "vvv", "psfc", "gwfu_ref", "gwfv_ref")
"""The (lon, lat[, lev]) fields of the inputs."""
CONDITIONS = ("threads", "cpu_model", "cpu_capability", "blas", "torch_version")
"""The rounding conditions of the references, stored as ``reference_<name>``."""


def write_inputs(path: Path, checkpoint: Path, threads: int = 0) -> Path:
    """Write the inputs and the references computed with ``checkpoint`` to the
    directory ``path`` (replaced if it exists), one ``<name>.npy`` per variable:
    ``uuu``, ``vvv``, ``gwfu_ref``, ``gwfv_ref`` (lon, lat, lev), ``psfc`` (lon,
    lat), the coordinates ``lon``, ``lat`` (degrees) and ``pfull`` (Pa), and
    ``train_loss_ref`` (step), all float64, Fortran order; and the attributes as
    scalars: ``title``, ``history``, ``column_order``, ``checkpoint`` and its
    ``checkpoint_sha256``, and the conditions the references' rounding depended
    on (``reference_threads`` as int64, ``reference_cpu_model``,
    ``reference_cpu_capability``, ``reference_blas``, ``reference_torch_version``
    as byte strings; see :func:`ftbench.checks.rounding_conditions`). Units are
    in docs/cgdrag.md.

    Written to a temporary directory beside ``path`` first and renamed, so no
    partial set of files appears under ``path``.

    Args:
        threads: torch intra-op threads for the references (0: torch's default);
            the drivers' checks hold whatever thread count they run on.

    Raises:
        FileNotFoundError, ValueError: see :func:`ftbench.models.wavenet.load_checkpoint`.
    """
    fields = synthetic_fields()
    model = wavenet.build(Path(checkpoint))
    previous = torch.get_num_threads()
    if threads > 0:
        torch.set_num_threads(threads)
    try:
        conditions = checks.rounding_conditions()
        gwfu = reference_drag(model, fields["uuu"], fields["lat"], fields["psfc"])
        gwfv = reference_drag(model, fields["vvv"], fields["lat"], fields["psfc"])
        lat2d = np.broadcast_to(fields["lat"][np.newaxis, :], fields["psfc"].shape)
        losses = training.reference_losses(
            wavenet.build(Path(checkpoint)),
            columns(fields["uuu"]),
            columns(lat2d),
            columns(fields["psfc"]),
            columns(gwfu),
            training.settings().reference_steps,
        )
    finally:
        torch.set_num_threads(previous)
    arrays = {
        "uuu": fields["uuu"],
        "vvv": fields["vvv"],
        "psfc": fields["psfc"],
        "gwfu_ref": gwfu,
        "gwfv_ref": gwfv,
        "lon": np.linspace(0.0, 360.0, N_LON, endpoint=False),
        "lat": fields["lat"],
        "pfull": full_levels(),
        "train_loss_ref": losses,
    }
    texts = {
        "title": "MiMA-like T42 inputs and WaveNet-2 reference drag (fortran-torch-bench)",
        "history": HISTORY,
        "column_order": "Fortran: column c = i + 128*(j-1) for longitude i, latitude j",
        "checkpoint": Path(checkpoint).name,
        "checkpoint_sha256": file_sha256(checkpoint),
        **{f"reference_{key}": str(value) for key, value in conditions.items() if key != "threads"},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        for name, values in arrays.items():
            np.save(temporary / f"{name}.npy", np.asfortranarray(values, dtype=np.float64))
        for name, text in texts.items():
            np.save(temporary / f"{name}.npy", np.bytes_(text.encode()))
        np.save(temporary / "reference_threads.npy", np.int64(conditions["threads"]))
        os.chmod(temporary, 0o755)
        if path.exists() or path.is_symlink():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.old.", dir=path.parent))
            os.replace(path, old / path.name)
            os.replace(temporary, path)
            shutil.rmtree(old)
        else:
            os.replace(temporary, path)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
    return path


def _text(path: Path, name: str) -> str:
    """The byte-string attribute ``name`` of the inputs in ``path``."""
    return np.load(path / f"{name}.npy").item().decode()


def read_inputs(path: Path) -> dict[str, Any]:
    """Read a directory written by :func:`write_inputs`: arrays in Fortran order
    (lon, lat[, lev]), ``lat``, ``train_loss_ref``, ``checkpoint_sha256`` and
    ``reference_conditions`` (threads, CPU, BLAS, torch).

    Raises:
        FileNotFoundError: the directory or one of its files is missing.
        ValueError: a field holds NaN or infinite values, or is not float64.
    """
    data: dict[str, Any] = {}
    for name in (*FIELDS, "lat", "train_loss_ref"):
        values = np.load(path / f"{name}.npy")
        if values.dtype != np.float64:
            raise ValueError(f"variable {name} in '{path}' is {values.dtype}, not float64")
        data[name] = values
    data["checkpoint_sha256"] = _text(path, "checkpoint_sha256")
    data["reference_conditions"] = {
        key: _text(path, f"reference_{key}") for key in CONDITIONS if key != "threads"
    }
    data["reference_conditions"]["threads"] = int(np.load(path / "reference_threads.npy"))
    for name in (*FIELDS, "lat", "train_loss_ref"):
        bad = int(np.count_nonzero(~np.isfinite(data[name])))
        if bad:  # as the Fortran drivers' cgdrag_read: refused before the model load
            raise ValueError(
                f"variable {name} in '{path}' has {bad} NaN or infinite value(s) "
                "(rewrite it with `ftbench inputs`)"
            )
    return data


def is_current(path: Path, checkpoint: Path, threads: int = 0) -> bool:
    """True when ``path`` holds inputs written from ``checkpoint`` by this version
    (with references made on ``threads`` threads, when that is > 0)."""
    try:
        return (
            _text(path, "checkpoint_sha256") == file_sha256(checkpoint)
            and _text(path, "history") == HISTORY
            and (threads <= 0 or int(np.load(path / "reference_threads.npy")) == threads)
            and (path / "train_loss_ref.npy").is_file()
        )
    except (OSError, ValueError):
        return False
