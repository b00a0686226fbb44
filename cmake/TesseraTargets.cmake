# tessera_add_library(<folder> SOURCES ... DEPENDS ...): the library of one top folder, with the
# tessera:: alias, includes rooted at the repository and the project's warning flags.
function(tessera_set_flags target)
  target_compile_features(${target} PUBLIC cxx_std_20)
  set(shadow -Wshadow=local)
  if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")  # the fuzz preset; clang spells it differently
    set(shadow -Wshadow-uncaptured-local)
  endif()
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic ${shadow} -Wnon-virtual-dtor)
  # GCC 12 reports -Wrestrict false positives inside std::string concatenation at -O2 and above
  # (GCC bug 105329); with -Werror they would break optimised builds.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    target_compile_options(${target} PRIVATE -Wno-restrict)
  endif()
  if(TESSERA_WARNINGS_AS_ERRORS)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(TESSERA_SANITIZE)
    # float-cast-overflow (a double beyond the integer it is cast to) is not part of "undefined";
    # clang also checks unsigned wrap-around and lossy implicit conversions ("integer").
    set(sanitizers address,undefined,float-cast-overflow)
    if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
      string(APPEND sanitizers ",integer")
    endif()
    target_compile_options(${target} PUBLIC -fsanitize=${sanitizers} -fno-omit-frame-pointer)
    target_link_options(${target} PUBLIC -fsanitize=${sanitizers})
  endif()
  if(TESSERA_FUZZ)
    # Coverage for libFuzzer in every library (fuzz/ links -fsanitize=fuzzer), and ASan and
    # UBSan that stop at the first report so each one is a finding.
    target_compile_options(${target} PUBLIC -fsanitize=fuzzer-no-link,address,undefined,float-cast-overflow
                           -fno-sanitize-recover=all -fno-omit-frame-pointer)
    target_link_options(${target} PUBLIC -fsanitize=address,undefined)
  endif()
endfunction()

function(tessera_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPENDS;PRIVATE_DEPENDS" ${ARGN})
  add_library(tessera_${name} STATIC ${ARG_SOURCES})
  add_library(tessera::${name} ALIAS tessera_${name})
  target_include_directories(tessera_${name} PUBLIC ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}/generated)
  target_link_libraries(tessera_${name} PUBLIC ${ARG_DEPENDS} PRIVATE ${ARG_PRIVATE_DEPENDS})
  tessera_set_flags(tessera_${name})
endfunction()
