# Target ftb_build_info: writes generated/bench_build_info.h on every build
# (git commit, compilers, build type) and touches it only when its content
# changes, so the results files always name the commit they were built from.
set(FTB_BUILD_INFO_HEADER ${PROJECT_BINARY_DIR}/generated/bench_build_info.h)
add_custom_target(ftb_build_info
  COMMAND ${CMAKE_COMMAND}
          -DSOURCE_DIR=${PROJECT_SOURCE_DIR}
          -DOUTPUT=${FTB_BUILD_INFO_HEADER}
          "-DCXX_COMPILER=${CMAKE_CXX_COMPILER_ID} ${CMAKE_CXX_COMPILER_VERSION}"
          -DBUILD_TYPE=${CMAKE_BUILD_TYPE}
          -P ${PROJECT_SOURCE_DIR}/cmake/WriteBuildInfo.cmake
  BYPRODUCTS ${FTB_BUILD_INFO_HEADER}
  COMMENT "Recording git commit and compilers")
