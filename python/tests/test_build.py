"""The CMake build: build types and the Profile configuration."""

from __future__ import annotations

from pathlib import Path

from conftest import REPO, run


def _cache_value(build_dir: Path, name: str) -> str:
    for line in (build_dir / "CMakeCache.txt").read_text().splitlines():
        if line.startswith(name + ":"):
            return line.split("=", 1)[1]
    raise KeyError(name)


def test_unknown_build_type_is_a_configure_error(build_dir: Path, tmp_path: Path) -> None:
    out = run(
        ["cmake", "-S", REPO, "-B", tmp_path / "b", "-DCMAKE_BUILD_TYPE=Fast"]
        + [f"-DCMAKE_PREFIX_PATH={_cache_value(build_dir, 'CMAKE_PREFIX_PATH')}"]
        + [f"-DPython_EXECUTABLE={_cache_value(build_dir, 'Python_EXECUTABLE')}"]
    )
    assert out.returncode != 0
    message = " ".join(out.stderr.split())  # CMake wraps long messages
    assert (
        "Unknown CMAKE_BUILD_TYPE 'Fast'; use one of: Debug, Release, RelWithDebInfo, Profile, "
        in message
    )


def test_profile_build_compiles_with_pg_and_sets_pg_link_flags(
    build_dir: Path, tmp_path: Path
) -> None:
    """Profile = RelWithDebInfo flags + -pg -fno-omit-frame-pointer, and -pg at link time.

    Compiles one small library of the Profile configuration (the whole Profile build,
    linked and run, is what scripts/profile.sh makes for results/profiles) and reads
    the compile and link lines CMake generated for a driver and the C++ baseline.
    """
    out = run(
        ["cmake", "-S", REPO, "-B", tmp_path / "b", "-DCMAKE_BUILD_TYPE=Profile"]
        + [f"-DCMAKE_PREFIX_PATH={_cache_value(build_dir, 'CMAKE_PREFIX_PATH')}"]
        + [f"-DPython_EXECUTABLE={_cache_value(build_dir, 'Python_EXECUTABLE')}"]
    )
    assert out.returncode == 0, out.stderr
    targets = {
        "Fortran": tmp_path / "b/fortran/drivers/CMakeFiles/benchmarker_cgdrag_torch.dir",
        "CXX": tmp_path / "b/native/CMakeFiles/benchmarker_native_cpp.dir",
    }
    for language, target in targets.items():
        flags = (target / "flags.make").read_text().splitlines()
        line = next(x for x in flags if x.startswith(f"{language}_FLAGS"))
        assert "-O2 -g" in line and "-pg -fno-omit-frame-pointer" in line, line
        assert " -pg " in (target / "link.txt").read_text()
    built = run(["cmake", "--build", tmp_path / "b", "--target", "ftb_coupling_core"])
    assert built.returncode == 0, built.stdout + built.stderr
    symbols = run(["nm", tmp_path / "b" / "lib" / "libftb_coupling_core.a"])
    assert "mcount" in symbols.stdout  # -pg made every function call the profiler's counter
