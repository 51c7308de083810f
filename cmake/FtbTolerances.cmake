# The correctness checks' tolerances and the input rules (large-stride; any model
# through the generic drivers), defined once
# in python/src/ftbench/checks.json (read by ftbench too), become the Fortran
# modules bench_tolerances and bench_inputs and the C headers bench_tolerances.h
# and bench_inputs.h in ${PROJECT_BINARY_DIR}/generated. CMake configures again
# when the JSON changes.
set(FTB_CHECKS_JSON ${PROJECT_SOURCE_DIR}/python/src/ftbench/checks.json)
set_property(DIRECTORY ${PROJECT_SOURCE_DIR} APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${FTB_CHECKS_JSON})
file(READ ${FTB_CHECKS_JSON} ftb_checks)
# ftb_checks_fields(<prefix> <json path...> FIELDS <field...>): each field of the
# object at that path of checks.json into the variable <prefix>_<field>.
function(ftb_checks_fields prefix)
  cmake_parse_arguments(ARG "" "" "FIELDS" ${ARGN})
  string(REPLACE ";" "." where "${ARG_UNPARSED_ARGUMENTS}")
  foreach(field IN LISTS ARG_FIELDS)
    string(JSON value ERROR_VARIABLE error GET "${ftb_checks}" ${ARG_UNPARSED_ARGUMENTS} ${field})
    if(error)
      message(FATAL_ERROR "${FTB_CHECKS_JSON}: ${where}.${field}: ${error}")
    endif()
    set(${prefix}_${field} "${value}" PARENT_SCOPE)
  endforeach()
endfunction()
ftb_checks_fields(FTB_CGDRAG cgdrag FIELDS rtol atol_fraction rounding_units basis)
ftb_checks_fields(FTB_CGDRAG_TRAIN cgdrag_train
  FIELDS rtol rounding_units learning_rate sample_stride target_scale reference_steps)
ftb_checks_fields(FTB_LARGE_STRIDE large_stride FIELDS rtol atol_fraction rounding_units basis)
ftb_checks_fields(FTB_LARGE_STRIDE large_stride input FIELDS row_step column_step iteration_step modulus)
ftb_checks_fields(FTB_MODEL model input FIELDS element_step input_step modulus)
foreach(name bench_inputs.f90 bench_inputs.h)
  configure_file(${PROJECT_SOURCE_DIR}/cmake/${name}.in ${PROJECT_BINARY_DIR}/generated/${name} @ONLY)
endforeach()
configure_file(${PROJECT_SOURCE_DIR}/cmake/bench_tolerances.f90.in
               ${PROJECT_BINARY_DIR}/generated/bench_tolerances.f90 @ONLY)
configure_file(${PROJECT_SOURCE_DIR}/cmake/bench_tolerances.h.in
               ${PROJECT_BINARY_DIR}/generated/bench_tolerances.h @ONLY)
