# ftb_add_library(<name> SOURCES <files...> [LINK <targets...>])
#
# A static library whose Fortran modules go to their own directory, exported
# to every target that links it. Each shared source is compiled exactly once,
# here, so parallel builds (make -j) never race on .mod files.
function(ftb_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LINK" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  set(module_dir ${PROJECT_BINARY_DIR}/modules/${name})
  set_target_properties(${name} PROPERTIES Fortran_MODULE_DIRECTORY ${module_dir})
  target_include_directories(${name} PUBLIC ${module_dir} ${CMAKE_CURRENT_SOURCE_DIR})
  if(ARG_LINK)
    target_link_libraries(${name} PUBLIC ${ARG_LINK})
  endif()
endfunction()
