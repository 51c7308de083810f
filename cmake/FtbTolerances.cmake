# The correctness checks' tolerances and the input rules (large-stride; any model
# through the generic drivers), defined once
# in python/src/ftbench/checks.json (read by ftbench too), become the Fortran
# modules bench_tolerances and bench_inputs and the C headers bench_tolerances.h
# and bench_inputs.h in ${PROJECT_BINARY_DIR}/generated. CMake configures again
# when the JSON changes.
set(FTB_CHECKS_JSON ${PROJECT_SOURCE_DIR}/python/src/ftbench/checks.json)
set_property(DIRECTORY ${PROJECT_SOURCE_DIR} APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${FTB_CHECKS_JSON})
file(READ ${FTB_CHECKS_JSON} ftb_checks)
foreach(benchmark cgdrag large_stride)
  string(TOUPPER ${benchmark} upper)
  foreach(field rtol atol_fraction rounding_units basis)
    string(JSON value ERROR_VARIABLE error GET "${ftb_checks}" ${benchmark} ${field})
    if(error)
      message(FATAL_ERROR "${FTB_CHECKS_JSON}: ${benchmark}.${field}: ${error}")
    endif()
    set(FTB_${upper}_${field} "${value}")
  endforeach()
endforeach()
foreach(field row_step column_step iteration_step modulus)
  string(JSON value ERROR_VARIABLE error GET "${ftb_checks}" large_stride input ${field})
  if(error)
    message(FATAL_ERROR "${FTB_CHECKS_JSON}: large_stride.input.${field}: ${error}")
  endif()
  set(FTB_LARGE_STRIDE_${field} "${value}")
endforeach()
foreach(field element_step input_step modulus)
  string(JSON value ERROR_VARIABLE error GET "${ftb_checks}" model input ${field})
  if(error)
    message(FATAL_ERROR "${FTB_CHECKS_JSON}: model.input.${field}: ${error}")
  endif()
  set(FTB_MODEL_${field} "${value}")
endforeach()
foreach(name bench_inputs.f90 bench_inputs.h)
  configure_file(${PROJECT_SOURCE_DIR}/cmake/${name}.in ${PROJECT_BINARY_DIR}/generated/${name} @ONLY)
endforeach()
configure_file(${PROJECT_SOURCE_DIR}/cmake/bench_tolerances.f90.in
               ${PROJECT_BINARY_DIR}/generated/bench_tolerances.f90 @ONLY)
configure_file(${PROJECT_SOURCE_DIR}/cmake/bench_tolerances.h.in
               ${PROJECT_BINARY_DIR}/generated/bench_tolerances.h @ONLY)
