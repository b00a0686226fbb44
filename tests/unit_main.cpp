// Catch2 v2 main for the tests that do not link SystemC. Kept alone: the implementation part of
// the single header is the slow one to compile.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
