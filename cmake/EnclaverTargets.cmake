# enclaver_library(NAME SOURCES... [DEPS ...]): a static library under src/,
# include root = src/ so headers are included as "component/header.hpp".
function(enclaver_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
  set_target_properties(${name} PROPERTIES POSITION_INDEPENDENT_CODE OFF)
endfunction()

# enclaver_program(NAME SOURCES... DEPS ...): a program users run; programs
# land at the top of the build directory (build/release/enclaver, .../odyn).
function(enclaver_program name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR})
endfunction()

# enclaver_static_program(NAME SOURCES... DEPS ...): a fully static executable
# (no dynamic loader, no NSS). Third-party libraries must be given as static
# archives.
function(enclaver_static_program name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  enclaver_program(${name} SOURCES ${ARG_SOURCES} DEPS ${ARG_DEPS})
  # Sanitizer runtimes cannot link statically: sanitized builds (asan
  # preset) test the same code dynamically linked.
  if(NOT ENCLAVER_SANITIZED)
    target_link_options(${name} PRIVATE -static)
  endif()
  # These programs ship inside images (odyn in every EIF, enclaver-run in
  # every release image): outside debug builds they carry no debug info,
  # which would be nine tenths of their size and is measured into PCR2.
  target_link_options(${name} PRIVATE $<$<NOT:$<CONFIG:Debug>>:-Wl,--strip-debug>)
endfunction()

# enclaver_unit_test(NAME SOURCES... DEPS ...): a GoogleTest binary whose tests
# CTest discovers one by one, labelled "unit".
function(enclaver_unit_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
  target_compile_definitions(${name} PRIVATE
    ENCLAVER_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    ENCLAVER_SHARED_DIR="${PROJECT_SOURCE_DIR}/../shared")
  include(GoogleTest)
  # NO_PRETTY_VALUES: parameterised tests are named by index, stable across builds.
  gtest_discover_tests(${name} NO_PRETTY_VALUES PROPERTIES LABELS unit DISCOVERY_TIMEOUT 60)
endfunction()

# enclaver_fuzz_target(NAME SOURCE DEPS ...): a libFuzzer binary (clang only).
function(enclaver_fuzz_target name source)
  add_executable(${name} ${source})
  target_link_libraries(${name} PRIVATE ${ARGN})
  target_compile_options(${name} PRIVATE -fsanitize=fuzzer)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  set_property(GLOBAL APPEND PROPERTY ENCLAVER_FUZZ_TARGETS ${name})
endfunction()
