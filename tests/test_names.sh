#!/usr/bin/env bash
# Fails when a Catch2 test name starts with '-'. ctest runs each test as `binary "<name>"`, and
# Catch2 reads such a name as one of its own options: "--out a b" ran every test of the binary
# and wrote the report to a file called "a b", so the test took minutes and failed at random.
# Usage: test_names.sh TESTS_DIR
set -euo pipefail
cd "${1:?usage: test_names.sh TESTS_DIR}"
hits=$(grep -rnE --include='*.cpp' '(TEST_CASE|SCENARIO|TEMPLATE_TEST_CASE)\(\s*"-' . || true)
if [[ -n "$hits" ]]; then
  printf '%s\n' "$hits"
  echo "test_names: the test names above start with '-'; Catch2 would take them for options" >&2
  exit 1
fi
echo "test_names: no test name starts with '-'"
