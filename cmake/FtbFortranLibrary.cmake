# ftb_add_library(<name> SOURCES <files...> [LINK <targets...>])
#
# A static library whose Fortran modules go to their own directory, exported
# to every target that links it, compiled reentrant (-frecursive). Each shared source is compiled exactly once,
# here, so parallel builds (make -j) never race on .mod files. Installed
# libraries (cmake/FtbInstall.cmake) find their headers and modules under
# include/fortran_torch_bench/ instead of the build and source trees.
function(ftb_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LINK" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  set(module_dir ${PROJECT_BINARY_DIR}/modules/${name})
  set_target_properties(${name} PROPERTIES Fortran_MODULE_DIRECTORY ${module_dir})
  target_include_directories(${name} PUBLIC
    $<BUILD_INTERFACE:${module_dir}> $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}>
    $<INSTALL_INTERFACE:${FTB_INSTALL_INCLUDEDIR}> $<INSTALL_INTERFACE:${FTB_INSTALL_MODULEDIR}>)
  # -frecursive: every local variable on the stack, so any library procedure
  # may run in several threads at once (test_concurrency). Fortran 2018 makes
  # procedures recursive by default; gfortran 12 does not, and -fcheck=all's
  # recursion check reports concurrent calls otherwise. Not on the programs:
  # their main-program variables stay static, as the standard's implicit SAVE.
  target_compile_options(${name} PRIVATE $<$<COMPILE_LANGUAGE:Fortran>:-frecursive>)
  # Objects compiled with gcov counters or sanitizers need the same option when
  # linked into any program, the installed package's consumers included.
  target_link_options(${name} INTERFACE ${FTB_INSTRUMENTATION_LINK_OPTIONS})
  if(ARG_LINK)
    target_link_libraries(${name} PUBLIC ${ARG_LINK})
  endif()
endfunction()
