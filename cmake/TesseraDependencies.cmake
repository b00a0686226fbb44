# Every third-party package comes from Debian (scripts/setup.sh installs them) and is used through
# its CMake target. Nothing is downloaded at build time.
find_package(Boost 1.74 REQUIRED COMPONENTS graph)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(TBB REQUIRED)
find_package(CLI11 REQUIRED)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(Threads REQUIRED)
# libpagmo-dev: non-dominated sorting and hypervolumes for the explorer's Pareto fronts.
find_package(Pagmo REQUIRED)

# Debian's libsystemc-dev has pkg-config files but no CMake package (docs/architecture.md).
# A source-built SystemC with its CMake package is preferred when present.
find_package(SystemCLanguage CONFIG QUIET)
if(NOT TARGET SystemC::systemc)
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(SYSTEMC REQUIRED IMPORTED_TARGET systemc>=2.3.3)
  add_library(SystemC::systemc ALIAS PkgConfig::SYSTEMC)
endif()

# libopenmpi-dev: the MPI evaluator pool (explorer/mpi), an optional library.
if(TESSERA_WITH_MPI)
  find_package(MPI REQUIRED COMPONENTS CXX)
endif()

# libtorch-dev: autograd for the co-design search algorithms (explorer/torch), optional.
if(TESSERA_WITH_TORCH)
  find_package(Torch REQUIRED)
endif()

if(TESSERA_BUILD_TESTS)
  find_package(Catch2 2 REQUIRED)
  include(Catch)
endif()
