# `cmake --install <build> --prefix <prefix>` installs the two coupling layers
# for use in other codes (docs/install.md):
#   <prefix>/lib/libftb_{coupling_core,torch,python}.a        static libraries
#   <prefix>/include/fortran_torch_bench/*.h                  C ABI headers
#   <prefix>/include/fortran_torch_bench/modules/*.mod        Fortran modules (gfortran's format)
#   <prefix>/lib/cmake/fortran_torch_bench/                   find_package(fortran_torch_bench)
#   <prefix>/lib/pkgconfig/fortran-torch-bench-{direct,embedded}.pc
# find_package gives the imported targets fortran_torch_bench::direct (ftb_torch:
# `use torch_coupling`) and fortran_torch_bench::embedded (ftb_python:
# `use py_embedding`), which bring libtorch and the embedded Python with them.
include(CMakePackageConfigHelpers)
set(FTB_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/fortran_torch_bench)
set(FTB_INSTALLED_LIBRARIES ftb_coupling_core ftb_torch ftb_python)
set_target_properties(ftb_coupling_core PROPERTIES EXPORT_NAME coupling_core)
set_target_properties(ftb_torch PROPERTIES EXPORT_NAME direct)
set_target_properties(ftb_python PROPERTIES EXPORT_NAME embedded)

install(TARGETS ${FTB_INSTALLED_LIBRARIES} EXPORT fortran_torch_bench_targets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
foreach(library IN LISTS FTB_INSTALLED_LIBRARIES)
  install(DIRECTORY ${PROJECT_BINARY_DIR}/modules/${library}/ DESTINATION ${FTB_INSTALL_MODULEDIR}
          FILES_MATCHING PATTERN "*.mod")
endforeach()
install(FILES fortran/torch/torch_c_api.h fortran/python/py_c_api.h
        DESTINATION ${FTB_INSTALL_INCLUDEDIR})
install(EXPORT fortran_torch_bench_targets NAMESPACE fortran_torch_bench::
        FILE fortran_torch_bench-targets.cmake DESTINATION ${FTB_INSTALL_CMAKEDIR})

# The consumer finds the same libtorch and Python as this build (their paths are
# recorded as defaults; a consumer may point Torch_DIR or Python_EXECUTABLE elsewhere
# at its own risk: libtorch's C++ ABI and libpython's version must match).
get_filename_component(FTB_PYTHON_EXECUTABLE_ABSOLUTE "${Python_EXECUTABLE}" ABSOLUTE)
configure_package_config_file(cmake/fortran_torch_bench-config.cmake.in
  ${PROJECT_BINARY_DIR}/install/fortran_torch_bench-config.cmake
  INSTALL_DESTINATION ${FTB_INSTALL_CMAKEDIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/install/fortran_torch_bench-config-version.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/install/fortran_torch_bench-config.cmake
              ${PROJECT_BINARY_DIR}/install/fortran_torch_bench-config-version.cmake
        DESTINATION ${FTB_INSTALL_CMAKEDIR})

# pkg-config: the prefix is found from the .pc file's own place (${pcfiledir}),
# so `--prefix` at install time needs no reconfigure. libtorch and libpython are
# named by their absolute directories, with an rpath, as this build found them.
get_filename_component(FTB_TORCH_LIBDIR "${TORCH_LIBRARY}" DIRECTORY)
list(GET Python_LIBRARIES 0 python_library)
get_filename_component(FTB_PYTHON_LIBDIR "${python_library}" DIRECTORY)
set(FTB_PYTHON_LIBNAME python${Python_VERSION_MAJOR}.${Python_VERSION_MINOR})
list(JOIN FTB_INSTRUMENTATION_LINK_OPTIONS " " FTB_PKGCONFIG_INSTRUMENTATION)
file(RELATIVE_PATH FTB_PKGCONFIG_TO_PREFIX /${CMAKE_INSTALL_LIBDIR}/pkgconfig /)
string(REGEX REPLACE "/$" "" FTB_PKGCONFIG_TO_PREFIX "${FTB_PKGCONFIG_TO_PREFIX}")
foreach(layer direct embedded)
  configure_file(cmake/fortran-torch-bench-${layer}.pc.in
                 ${PROJECT_BINARY_DIR}/install/fortran-torch-bench-${layer}.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/install/fortran-torch-bench-${layer}.pc
          DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endforeach()
