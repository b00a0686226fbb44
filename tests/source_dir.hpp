// Where the checkout lies, for tests that read shipped files and test data. Every test file gets
// this header through -include (tests/CMakeLists.txt); the values live in one generated file.
#pragma once

#include <string>

namespace tessera::test {
extern const char* const kSourceDir;  // the repository root
extern const char* const kTestData;   // tests/data
}  // namespace tessera::test

#define TESSERA_SOURCE_DIR (std::string(::tessera::test::kSourceDir))
#define TESSERA_TEST_DATA (std::string(::tessera::test::kTestData))
