// The reader every user file goes through (common/input_file.hpp): regular files only, a size
// limit per kind of file, one-line errors naming the file. Pipes and devices are made in a
// temporary folder (mkfifo) or only examined (/dev/zero is never opened).
#include <filesystem>
#include <fstream>
#include <functional>

#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.hpp"
#include "common/input_file.hpp"
#include "common/params.hpp"
#include "workloads/frontend.hpp"
#include "workloads/onnx_import.hpp"

using namespace tessera;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("tessera_input_" + std::to_string(::getpid()));
  TempDir() {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string file(const std::string& name, const std::string& text) const {
    std::ofstream(path / name, std::ios::binary) << text;
    return (path / name).string();
  }
};

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("input files: regular files are read whole, through symbolic links", "[files]") {
  const TempDir d;
  const auto a = d.file("a.json", "{\"x\": 1}");
  CHECK(read_input_file(a, kTextFileLimit) == "{\"x\": 1}");
  fs::create_symlink(a, d.path / "link.json");
  CHECK(read_input_file((d.path / "link.json").string(), kTextFileLimit) == "{\"x\": 1}");
  CHECK(read_json_file((d.path / "link.json").string()).at("x") == 1);
  CHECK(read_input_file(d.file("empty", ""), kTextFileLimit).empty());
  const InputFile f(a, kTextFileLimit);
  CHECK(f.size() == 8);
  CHECK(f.read(1, 3) == "\"x\"");
  CHECK_THAT(error_of([&] { (void)f.read(6, 3); }), Contains(a) && Contains("beyond the end"));
}

TEST_CASE("input files: what is not a regular file is refused before it is opened",
          "[files][errors]") {
  const TempDir d;
  const auto fifo = (d.path / "pipe.json").string();
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  // No writer ever opens the pipe: a reader that opened it would wait forever.
  CHECK(error_of([&] { (void)read_input_file(fifo, kTextFileLimit); }) ==
        fifo + ": is a pipe (FIFO), not a regular file");
  CHECK_THAT(error_of([&] { (void)read_json_file(fifo); }), Contains(fifo) && Contains("pipe"));
  fs::create_symlink(fifo, d.path / "to_pipe.json");
  CHECK_THAT(error_of([&] { (void)read_json_file((d.path / "to_pipe.json").string()); }),
             Contains("to_pipe.json: is a pipe (FIFO)"));
  // /dev/zero would never end: refused from its type alone.
  CHECK(error_of([] { (void)read_input_file("/dev/zero", kTextFileLimit); }) ==
        "/dev/zero: is a character device, not a regular file");
  CHECK(error_of([&] { (void)read_input_file(d.path.string(), kTextFileLimit); }) ==
        d.path.string() + ": is a directory, not a regular file");
  CHECK_THAT(error_of([&] { (void)read_input_file((d.path / "none").string(), kTextFileLimit); }),
             Contains("none: cannot open file: No such file or directory"));
  CHECK_THAT(error_of([] { (void)read_input_file("", kTextFileLimit, "results log"); }),
             Contains("cannot open results log: the path is empty"));
  // Every message is one line.
  for (const auto& p : {fifo, std::string("/dev/zero"), d.path.string()})
    CHECK(error_of([&] { (void)read_input_file(p, kTextFileLimit); }).find('\n') ==
          std::string::npos);
}

TEST_CASE("input files: a file over its kind's limit is refused before it is read",
          "[files][errors]") {
  const TempDir d;
  const auto big = d.file("big.csv", std::string(3000, 'x'));
  CHECK(error_of([&] { (void)read_input_file(big, 2048); }) ==
        big + ": is 2.9 KiB, larger than the 2 KiB limit for this kind of file");
  CHECK(read_input_file(big, 3000).size() == 3000);
  CHECK(byte_size_text(kTextFileLimit) == "256 MiB");
  CHECK(byte_size_text(kResultsLogLimit) == "4 GiB");
  CHECK(byte_size_text(1023) == "1023 bytes");
}

TEST_CASE("input files: the readers refuse pipes where files should be", "[files][errors]") {
  const TempDir d;
  // A workload that is a pipe: refused before any front-end looks at it.
  const auto fifo = (d.path / "workload.json").string();
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK(error_of([&] { (void)workloads::load_workload(fifo); }) ==
        fifo + ": is a pipe (FIFO), not a regular file");
  CHECK(error_of([&] { (void)workloads::load_workload("/dev/zero"); }) ==
        "/dev/zero: is a character device, not a regular file");
  // An ONNX model whose external data file is a pipe.
  fs::copy_file(std::string(TESSERA_SOURCE_DIR) + "/workloads/models/tiny_external.onnx",
                d.path / "tiny_external.onnx");
  const auto data = (d.path / "tiny_external.onnx.data").string();
  REQUIRE(::mkfifo(data.c_str(), 0600) == 0);
  CHECK_THAT(error_of([&] { (void)workloads::read_onnx((d.path / "tiny_external.onnx").string()); }),
             Contains("tiny_external.onnx: initializer '") &&
                 Contains("': external data: " + data + ": is a pipe (FIFO), not a regular file"));
}
