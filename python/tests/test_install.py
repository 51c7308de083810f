"""The installed coupling layers, used from outside the project (issue 12, item 5).

`cmake --install` of the test build into a temporary prefix; then the example
program examples/use_installed/couple_both.f90 is built against that prefix
twice, as a user would: with CMake's find_package(fortran_torch_bench) and
with gfortran and pkg-config alone. Each build must run a TorchScript model
through the direct layer and a NumPy call through the embedded layer.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import torch
from torch import nn

from conftest import REPO, run

EXAMPLE = REPO / "examples" / "use_installed"


class Double(nn.Module):
    """forward(x) = 2 * x: what couple_both expects of its model."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 2 * x


@pytest.fixture(scope="module")
def prefix(build_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The coupling layers installed from the test build."""
    path = tmp_path_factory.mktemp("prefix")
    installed = run(["cmake", "--install", build_dir, "--prefix", path])
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return path


@pytest.fixture(scope="module")
def double_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A TorchScript file of Double."""
    path = tmp_path_factory.mktemp("double") / "double.pt"
    torch.jit.save(torch.jit.script(Double()), str(path))
    return path


def assert_runs_both_layers(program: Path, model: Path) -> None:
    """couple_both prints one line per layer with the expected values and exits 0;
    without a model file it exits 1 naming the file."""
    result = run([program, model])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "direct: forward(x) =  2.0  4.0  6.0  8.0 10.0 12.0" in result.stdout
    assert "embedded: numpy.sum(x) = 21.0" in result.stdout
    missing = run([program, model.with_name("missing.pt")])
    assert missing.returncode == 1
    assert "missing.pt" in missing.stderr and "no such file" in missing.stderr


def test_install_layout(prefix: Path) -> None:
    """Libraries, C headers, Fortran modules, CMake package and pkg-config files."""
    expected = [
        "lib/libftb_torch.a",
        "lib/libftb_python.a",
        "lib/libftb_coupling_core.a",
        "include/fortran_torch_bench/torch_c_api.h",
        "include/fortran_torch_bench/py_c_api.h",
        "include/fortran_torch_bench/modules/torch_coupling.mod",
        "include/fortran_torch_bench/modules/py_embedding.mod",
        "lib/cmake/fortran_torch_bench/fortran_torch_bench-config.cmake",
        "lib/cmake/fortran_torch_bench/fortran_torch_bench-config-version.cmake",
        "lib/pkgconfig/fortran-torch-bench-direct.pc",
        "lib/pkgconfig/fortran-torch-bench-embedded.pc",
    ]
    assert [name for name in expected if not (prefix / name).is_file()] == []


def test_find_package_consumer(prefix: Path, double_model: Path, tmp_path: Path) -> None:
    """An out-of-tree CMake project links fortran_torch_bench::direct and ::embedded."""
    build = tmp_path / "build"
    configured = run(
        ["cmake", "-S", EXAMPLE, "-B", build, f"-DCMAKE_PREFIX_PATH={prefix}"],
        env={**os.environ, "CMAKE_PREFIX_PATH": ""},
    )
    assert configured.returncode == 0, configured.stdout + configured.stderr
    built = run(["cmake", "--build", build])
    assert built.returncode == 0, built.stdout + built.stderr
    assert_runs_both_layers(build / "couple_both", double_model)


def test_pkg_config_consumer(prefix: Path, double_model: Path, tmp_path: Path) -> None:
    """The same program built by gfortran with only pkg-config's flags."""
    env = {**os.environ, "PKG_CONFIG_PATH": str(prefix / "lib" / "pkgconfig")}
    layers = ["fortran-torch-bench-direct", "fortran-torch-bench-embedded"]
    cflags = run(["pkg-config", "--cflags", *layers], env=env)
    libs = run(["pkg-config", "--libs", *layers], env=env)
    assert cflags.returncode == 0 and libs.returncode == 0, cflags.stderr + libs.stderr
    program = tmp_path / "couple_both"
    compiled = run(
        [
            shutil.which("gfortran") or "gfortran",
            "-std=f2018",
            *cflags.stdout.split(),
            EXAMPLE / "couple_both.f90",
            "-o",
            program,
            *libs.stdout.split(),
        ],
        cwd=tmp_path,
    )
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    assert_runs_both_layers(program, double_model)
