// The `command` accuracy oracle against commands that misbehave: the deadline holds whatever the
// command does with its output and signals (closing stdout, leaving a grandchild holding it,
// ignoring SIGTERM), output beyond what is kept loses its head and never its last line, and an
// answer that is no plain percentage fails the point with the reason. Each command is a small
// sh script; timing bounds are generous (a loaded machine), they check that the deadline ended
// the command, not speed.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "cli_support.hpp"
#include "explorer/oracle.hpp"
#include "explorer/results_log.hpp"
#include "explorer/sweep.hpp"
#include "test_support.hpp"

using namespace tessera;
using Catch::Matchers::Contains;

namespace {

namespace fs = std::filesystem;

fs::path temp_dir(const std::string& name) {
  const auto dir = fs::temp_directory_path() / ("tessera_command_oracle_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// small.json (three hardware parameters on LeNet-5) scored by `command`, written to `dir`.
std::string command_space(const fs::path& dir, const std::string& command, double timeout_s) {
  auto j = nlohmann::json::parse(std::ifstream(test::data_path("spaces/small.json")));
  j["arch"] = test::source_path("configs/arch/systolic_tiny_8x8.json");
  j["workload"] = test::source_path("configs/workloads/lenet5.json");
  j["parameters"] = {{"systolic.rows", {{"values", {4, 8}}}}};
  j["accuracy"] = {{"oracle", "command"}, {"command", command}, {"timeout_s", timeout_s}};
  const auto path = (dir / "space.json").string();
  std::ofstream(path) << j.dump(1);
  return path;
}

struct Scored {
  explorer::LogEntry entry;
  double seconds;
};

// Point 0 of the space scored by `command`, and how long that took.
Scored score(const fs::path& dir, const std::string& command, double timeout_s = 60) {
  const auto space = explorer::read_space(command_space(dir, command, timeout_s));
  const explorer::WorkloadCache workloads(space);
  const auto start = std::chrono::steady_clock::now();
  auto e = explorer::evaluate_point(space, workloads, 0, space.grid_point(0));
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // Whatever it printed, the reason is one line that a results log holds.
  CHECK(e.error.find('\n') == std::string::npos);
  CHECK_NOTHROW(explorer::to_line(e));
  return {std::move(e), s};
}

// True when process `pid` is gone (or a zombie: killed, not yet reaped by its new parent).
bool gone(const std::string& pid) {
  std::ifstream stat("/proc/" + pid + "/stat");
  std::string text;
  if (!std::getline(stat, text)) return true;
  const auto paren = text.rfind(')');
  return paren != std::string::npos && text.size() > paren + 2 && text[paren + 2] == 'Z';
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::string s;
  std::getline(in, s);
  return s;
}

}  // namespace

TEST_CASE("the command oracle's deadline holds whatever the command does",
          "[explorer][oracle][command]") {
  const auto dir = temp_dir("deadline");
  constexpr double kTimeout = 1.0;
  const auto times_out = [&](const std::string& command) {
    INFO(command);
    const auto r = score(dir, command, kTimeout);
    CHECK_FALSE(r.entry.ok);
    CHECK_THAT(r.entry.error, Contains("timed out after 1 s (timeout_s)"));
    CHECK(r.seconds >= kTimeout * 0.9);
    CHECK(r.seconds < kTimeout + 5);  // the deadline ended it, not the sleep of 60 s
    return r;
  };
  SECTION("a command that never answers") { times_out("sleep 60"); }
  SECTION("a command that closes its output and goes on") {
    times_out("exec >&- 2>&-; sleep 60");
  }
  SECTION("a command that ignores SIGTERM") { times_out("trap '' TERM; echo 50; sleep 60"); }
  SECTION("a grandchild that keeps the output open after the command exits") {
    // The background shell records its pid and keeps stdout open; the command prints an
    // answer and exits at once. Its output is still open: the point times out, and the
    // grandchild, in the command's process group, is killed with it.
    times_out("sh -c 'echo $$ > grandchild.pid; exec sleep 60' & echo 50");
    const auto pid = read_text(dir / "grandchild.pid");
    REQUIRE_FALSE(pid.empty());
    for (int i = 0; i < 50 && !gone(pid); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    CHECK(gone(pid));
  }
  SECTION("a command that closes stdin unread while the point is written") {
    const auto r = score(dir, "exec <&-; echo 42.5", kTimeout);
    REQUIRE(r.entry.ok);
    CHECK(r.entry.metrics.at("accuracy") == 42.5);
  }
}

TEST_CASE("the command oracle keeps the tail of a long output", "[explorer][oracle][command]") {
  const auto dir = temp_dir("long_output");
  // 3 MB of progress lines, then the answer: the answer is read.
  auto r = score(dir, "yes 'epoch 1 loss 0.25' | head -c 3000000; echo; echo 87.5");
  REQUIRE(r.entry.ok);
  CHECK(r.entry.metrics.at("accuracy") == 87.5);
  // One line of 3 MB: "1" and three million zeros. What is kept of it (zeros) would read as 0;
  // it is refused because its head was lost.
  r = score(dir, "printf 1; head -c 3000000 /dev/zero | tr '\\000' 0; echo");
  CHECK_FALSE(r.entry.ok);
  CHECK_THAT(r.entry.error, Contains("printed a last line longer than the 1048576 bytes kept"));
}

TEST_CASE("an accuracy that is not a plain percentage fails the point with the reason",
          "[explorer][oracle][command]") {
  const auto dir = temp_dir("answers");
  const auto fails = [&](const std::string& command, const std::string& why) {
    INFO(command);
    const auto r = score(dir, command);
    CHECK_FALSE(r.entry.ok);
    CHECK_THAT(r.entry.error, Contains("accuracy command '") && Contains(why));
  };
  fails("echo 100.5", "printed \"100.5\" as its last line: an accuracy in percent is in [0, 100]");
  CHECK_THAT(score(dir, "echo -3").entry.error, Contains("accuracy command 'echo -3' printed"));
  fails("echo -3", "printed \"-3\" as its last line: an accuracy in percent is in [0, 100]");
  for (const char* text : {"1e2", "inf", "nan", "0x40", "50 %", "5,5", ".", "--5", "1.2.3"})
    fails(std::string("echo '") + text + "'", "expected a number (accuracy in percent");
  fails("echo", "printed nothing on stdout");
  // Bytes that are not UTF-8 and control characters are quoted escaped: the reason stays one
  // line and the log can be written (checked by score()).
  fails("printf '\\377\\001\\n'", "printed \"\xEF\xBF\xBD\\u0001\" as its last line");
  fails("printf 'one\\ntwo\\n' >&2; exit 4", "exited with status 4: two");
  // Plain decimals in [0, 100] are read, with spaces around and blank lines after.
  for (const auto& [text, value] : std::vector<std::pair<std::string, double>>{
           {"0", 0}, {"100", 100}, {"  71.25 ", 71.25}, {".5", 0.5}, {"7.", 7}, {"+8", 8},
           {"-0", 0}, {"0050.500", 50.5}}) {
    INFO(text);
    const auto r = score(dir, "echo '" + text + "'; echo; echo '  '");
    REQUIRE(r.entry.ok);
    CHECK(r.entry.metrics.at("accuracy") == value);
  }
}

TEST_CASE("the output parser of the command oracle", "[explorer][oracle][command]") {
  const std::string who = "accuracy command 'x' ";
  using explorer::parse_command_accuracy;
  CHECK(parse_command_accuracy("epoch 1\n93.5\n", false, who) == 93.5);
  // A tail whose last line has a newline before it is whole; one without may have lost its head.
  CHECK(parse_command_accuracy("...cut\n12\n", true, who) == 12);
  CHECK_THROWS_WITH(parse_command_accuracy("0000\n", true, who),
                    Contains("longer than the 5 bytes kept"));
  // Far beyond a double, or below its smallest step: the decimal is read as what it is.
  CHECK_THROWS_WITH(parse_command_accuracy("1" + std::string(400, '0'), false, who),
                    Contains("is in [0, 100]"));
  CHECK(parse_command_accuracy("0." + std::string(400, '0') + "1", false, who) == 0);
  // A long line is quoted in part.
  CHECK_THROWS_WITH(parse_command_accuracy(std::string(1000, 'x'), false, who),
                    Contains("printed \"" + std::string(explorer::kQuotedLine, 'x') + "...\""));
}

TEST_CASE("a sweep logs the command oracle's failures and goes on", "[explorer][oracle][command]") {
  const auto dir = temp_dir("sweep");
  // Point 0 (rows 4) answers 101, point 1 (rows 8) 64.
  const auto space = command_space(
      dir, "case \"$(cat)\" in *'\"systolic.rows\":4'*) echo 101;; *) echo 64;; esac", 10);
  const auto log = (dir / "r.jsonl").string();
  const auto r = test::run_cli({"sweep", space, "--log", log, "--quiet"});
  CHECK(r.code == 0);
  const auto entries = test::log_by_index(log);
  REQUIRE(entries.size() == 2);
  CHECK(entries.at(0).at("status") == "failed");
  CHECK_THAT(entries.at(0).at("error").get<std::string>(),
             Contains("printed \"101\" as its last line: an accuracy in percent is in [0, 100]"));
  CHECK(entries.at(1).at("status") == "ok");
  CHECK(entries.at(1).at("metrics").at("accuracy") == 64);
}
