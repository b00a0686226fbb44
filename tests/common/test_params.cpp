// ParamReader: required, default and optional values, ranges, units, nested objects, and that
// every error names the file and the JSON path.
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "common/csv.hpp"
#include "common/error.hpp"
#include "common/params.hpp"

using namespace tessera;
using Catch::Contains;
using Catch::WithinRel;
using nlohmann::json;

namespace {

// A reader of the "engine" object of `doc`, said to come from p.json.
ParamReader engine(const json& doc) { return ParamReader(doc, "p.json").child("engine"); }

}  // namespace

TEST_CASE("required, default and optional values", "[common][params]") {
  const json doc =
      json::parse(R"({"engine": {"name": "sa", "rows": 32, "scale": 2.5, "fast": true}})");
  auto r = engine(doc);
  CHECK(r.path() == "/engine");
  CHECK(r.file() == "p.json");
  CHECK(r.string("name") == "sa");
  CHECK(r.integer("rows") == 32);
  CHECK(r.positive_integer("cols", 16) == 16);
  CHECK(r.number("scale") == 2.5);
  CHECK(r.boolean("fast", false));
  CHECK(r.string("dataflow", "ws") == "ws");
  CHECK_FALSE(r.optional_number("clock_skew"));
  CHECK_FALSE(r.optional_child("energy"));
  CHECK_NOTHROW(r.finish());

  CHECK_THROWS_WITH(r.string("missing"),
                    Contains("p.json: /engine: missing required key 'missing'"));
  CHECK_THROWS_WITH(r.child("missing"), Contains("p.json: /engine: missing required key"));
}

TEST_CASE("an unknown key names its path and the accepted keys", "[common][params]") {
  const json doc = json::parse(R"({"engine": {"rows": 32, "clok": "1 GHz"}})");
  auto r = engine(doc);
  r.integer("rows");
  r.frequency_hz("clock", "1 GHz");
  CHECK_THROWS_AS(r.finish(), InputError);
  CHECK_THROWS_WITH(r.finish(), Contains("p.json: /engine/clok: unknown key 'clok'") &&
                                    Contains("accepted here: clock, rows"));
}

TEST_CASE("type and range errors name file, path and expectation", "[common][params]") {
  const json doc =
      json::parse(R"({"engine": {"name": 3, "rows": 2.5, "cols": 0, "fill": -1, "on": "yes",
                                 "mode": "fast", "nested": {"deep": {"x": "1"}}, "list": [1]}})");
  auto r = engine(doc);
  CHECK_THROWS_WITH(r.string("name"),
                    Contains("p.json: /engine/name: expected a string, got an integer"));
  CHECK_THROWS_WITH(r.integer("rows"),
                    Contains("p.json: /engine/rows: expected an integer, got 2.5"));
  CHECK_THROWS_WITH(r.positive_integer("cols"),
                    Contains("p.json: /engine/cols: must be a positive integer, got 0"));
  CHECK_THROWS_WITH(r.non_negative("fill", 0), Contains("p.json: /engine/fill: must be >= 0"));
  CHECK_THROWS_WITH(r.positive("fill"), Contains("p.json: /engine/fill: must be > 0"));
  CHECK_THROWS_WITH(r.boolean("on", false),
                    Contains("p.json: /engine/on: expected true or false, got a string"));
  CHECK_THROWS_WITH(r.choice("mode", {"ws", "os", "is"}, "ws"),
                    Contains("p.json: /engine/mode: 'fast' is not one of: ws, os, is"));
  CHECK_THROWS_WITH(r.child("nested").child("deep").integer("x"),
                    Contains("p.json: /engine/nested/deep/x: expected an integer"));
  CHECK_THROWS_WITH(r.child("list"), Contains("p.json: /engine/list: expected an object"));
}

TEST_CASE("quantities with units", "[common][params]") {
  const json doc =
      json::parse(R"({"engine": {"f1": "1 GHz", "f2": 800, "f3": "1.5GHz", "f4": "250 kHz",
                                 "b1": "25.6 GB/s", "b2": 16, "b3": "8 B/cycle",
                                 "s1": "64 KiB", "s2": 1024, "s3": "2 MiB", "s4": "0.5 KiB"}})");
  auto r = engine(doc);
  CHECK(r.frequency_hz("f1", "1 GHz") == 1e9);
  CHECK(r.frequency_hz("f2", "1 GHz") == 800e6);  // a bare number is MHz
  CHECK(r.frequency_hz("f3", "1 GHz") == 1.5e9);
  CHECK(r.frequency_hz("f4", "1 GHz") == 250e3);
  CHECK(r.frequency_hz("absent", "200 MHz") == 200e6);

  const Bandwidth b1 = r.bandwidth("b1", "16 B/cycle");
  CHECK_FALSE(b1.per_cycle);
  CHECK_THAT(b1.bytes, WithinRel(25.6e9));
  CHECK_THAT(b1.bytes_per_cycle(1e9), WithinRel(25.6));  // at 1 GHz
  const Bandwidth b2 = r.bandwidth("b2", "1 GB/s");      // a bare number is bytes per cycle
  CHECK(b2.per_cycle);
  CHECK(b2.bytes_per_cycle(1e9) == 16);
  CHECK(r.bandwidth("b3", "1 GB/s").per_cycle);

  CHECK(r.size_bytes("s1", "1 KiB") == 65536);
  CHECK(r.size_bytes("s2", "1 KiB") == 1024);  // a bare number is bytes
  CHECK(r.size_bytes("s3", "1 KiB") == 2097152);
  CHECK(r.size_bytes("s4", "1 KiB") == 512);
  CHECK_NOTHROW(r.finish());
}

TEST_CASE("bad quantities name file, path and the accepted units", "[common][params]") {
  const json doc =
      json::parse(R"({"engine": {"f": "1 GHZ", "g": -5, "h": "fast", "b": "10 GB", "s": "-1 KiB",
                                 "t": "1.5 B", "u": [1]}})");
  auto r = engine(doc);
  CHECK_THROWS_WITH(r.frequency_hz("f", "1 GHz"),
                    Contains("p.json: /engine/f: unknown unit 'GHZ' in '1 GHZ'") &&
                        Contains("(units: MHz, Hz, kHz, GHz)"));
  CHECK_THROWS_WITH(r.frequency_hz("g", "1 GHz"),
                    Contains("p.json: /engine/g: frequency must be > 0, got -5"));
  CHECK_THROWS_WITH(r.frequency_hz("h", "1 GHz"),
                    Contains("p.json: /engine/h: cannot read 'fast'"));
  CHECK_THROWS_WITH(r.bandwidth("b", "1 GB/s"),
                    Contains("p.json: /engine/b: unknown unit 'GB'") && Contains("GB/s"));
  CHECK_THROWS_WITH(r.size_bytes("s", "1 KiB"),
                    Contains("p.json: /engine/s: size must be > 0, got '-1 KiB'"));
  CHECK_THROWS_WITH(r.size_bytes("t", "1 KiB"),
                    Contains("p.json: /engine/t: a size must be a whole number of bytes"));
  CHECK_THROWS_WITH(r.size_bytes("u", "1 KiB"), Contains("p.json: /engine/u: expected a size"));
}

TEST_CASE("JSON pointers, locations and files", "[common][params]") {
  CHECK(pointer_token("a/b~c") == "a~1b~0c");
  // Control characters never split a message's one line (a fuzz finding).
  CHECK(pointer_token("lat\ncy") == "lat\\u000acy");
  CHECK(printable(std::string("a\tb\x7f")) == "a\\u0009b\\u007f");
  CHECK(json_location("f.json", "") == "f.json: /: ");
  CHECK(json_location("f.json", "/a/0") == "f.json: /a/0: ");

  json doc = {{"a/b", {{"c", 1}}}};
  ParamReader top(doc, "f.json");
  auto child = top.child("a/b");
  CHECK(child.path() == "/a~1b");
  CHECK(child.error("c", "bad").what() == std::string("f.json: /a~1b/c: bad"));

  const json not_object = json::array();
  CHECK_THROWS_WITH(ParamReader(not_object, "f.json", "/x"),
                    Contains("f.json: /x: expected an object"));

  CHECK_THROWS_WITH(read_json_file("/nonexistent/p.json"),
                    Contains("/nonexistent/p.json: cannot open file"));
  CHECK_THROWS_WITH(read_json_file(std::string(TESSERA_TEST_DATA) + "/workloads/malformed.json"),
                    Contains("malformed.json:5:13: malformed JSON"));
}

TEST_CASE("arrays: sizes, object items, integer lists and string lists", "[common][params]") {
  const json doc = json::parse(R"({"engine": {"ops": [{"x": 1}, {"x": "no"}], "shape": {"k": 1},
      "one": 3, "two": [2, 5], "zero": [1, 0], "long": [1, 2, 3], "half": [1, 2.5],
      "names": ["a", "b"], "mixed": ["a", 7]}})");
  auto r = engine(doc);
  CHECK(r.is_array("ops"));
  CHECK_FALSE(r.is_array("shape"));
  CHECK_FALSE(r.is_array("absent"));
  CHECK(r.array_size("ops") == 2);
  CHECK_THROWS_WITH(r.array_size("shape"),
                    Contains("p.json: /engine/shape: expected an array, got an object"));
  CHECK_THROWS_WITH(r.array_size("absent"),
                    Contains("p.json: /engine: missing required key 'absent'"));

  auto item = r.item("ops", 1);
  CHECK(item.path() == "/engine/ops/1");
  CHECK(r.item("ops", 0).integer("x") == 1);
  CHECK_THROWS_WITH(item.integer("x"),
                    Contains("p.json: /engine/ops/1/x: expected an integer, got a string"));
  CHECK_THROWS_WITH(r.item("ops", 2), Contains("p.json: /engine/ops: expected an array"));
  CHECK_THROWS_WITH(r.item("names", 0), Contains("p.json: /engine/names/0: expected an object"));

  using V = std::vector<std::int64_t>;
  CHECK(r.integers("one", 2, 1, 1) == V{3, 3});  // one integer means all of them
  CHECK(r.integers("two", 2, 1, 1) == V{2, 5});
  CHECK(r.integers("absent", 4, 0, 0) == V{0, 0, 0, 0});
  CHECK_THROWS_WITH(r.integers("long", 2, 1, 1),
                    Contains("p.json: /engine/long: expected one integer or an array of 2, got "
                             "an array of 3"));
  CHECK_THROWS_WITH(r.integers("zero", 2, 1, 1),
                    Contains("p.json: /engine/zero/1: must be") && Contains("got 0"));
  CHECK_THROWS_WITH(r.integers("one", 2, 1, 4),
                    Contains("p.json: /engine/one: must be >= 4, got 3"));
  CHECK_THROWS_WITH(r.integers("half", 2, 1, 1),
                    Contains("p.json: /engine/half/1: expected an integer"));

  CHECK(r.strings("names") == std::vector<std::string>{"a", "b"});
  CHECK(r.strings("absent").empty());
  CHECK_THROWS_WITH(r.strings("mixed"),
                    Contains("p.json: /engine/mixed/1: expected a string, got an integer"));
  CHECK_THROWS_WITH(r.strings("one"),
                    Contains("p.json: /engine/one: expected a list of strings, got an integer"));
  CHECK_NOTHROW(r.finish());  // array_size, item, integers and strings mark their keys read
}

TEST_CASE("is_array alone does not mark a key read", "[common][params]") {
  const json doc = json::parse(R"({"engine": {"list": [1]}})");
  auto r = engine(doc);
  CHECK(r.is_array("list"));
  CHECK_THROWS_WITH(r.finish(), Contains("p.json: /engine/list: unknown key 'list'"));
}

TEST_CASE("CSV tables: header keys, CRLF, blank lines, and a missing file", "[common][csv]") {
  const auto path = (std::filesystem::temp_directory_path() / "tessera_table.csv").string();
  { std::ofstream(path) << "a,b,c\r\n1,2,3\r\n\r\n4,5\r\n"; }
  const auto rows = tessera::read_csv_table(path);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].at("c") == "3");
  CHECK(rows[1].at("b") == "5");
  CHECK(rows[1].count("c") == 0);
  CHECK_THROWS_WITH(tessera::read_csv_table(path + ".missing"),
                    Catch::Matchers::Contains("cannot open"));
}

TEST_CASE("out-of-range quantities and integers name file, path and bounds", "[common][params]") {
  // The inputs that gave impossible results: a 1e-300 bandwidth, a 1e30-byte SRAM (it became 0
  // bytes), a 1e300 GHz clock; integers beyond 2^53 (2^63 - 1 array rows, 2^64 - 1).
  const json doc = json::parse(R"({"engine": {
      "bw": 1e-300, "bw_s": "1e-300 GB/s", "bw_hi": "1e300 TB/s", "sram": 1e30,
      "sram_s": "1e20 GiB", "clock": "1e300 GHz", "slow": "0.001 Hz",
      "rows": 9223372036854775807, "u": 18446744073709551615, "neg": -9007199254740993,
      "big": 9007199254740992, "f": 1e17}})");
  auto r = engine(doc);
  CHECK_THROWS_WITH(r.bandwidth("bw", "1 B/cycle"),
                    Contains("p.json: /engine/bw: bandwidth must be in [0.001, 1e+09] B/cycle"));
  CHECK_THROWS_WITH(r.bandwidth("bw_s", "1 B/cycle"),
                    Contains("p.json: /engine/bw_s: bandwidth must be in [1000, 1e+16] B/s"));
  CHECK_THROWS_WITH(r.bandwidth("bw_hi", "1 B/cycle"), Contains("/engine/bw_hi: bandwidth"));
  CHECK_THROWS_WITH(r.size_bytes("sram", "1 KiB"),
                    Contains("p.json: /engine/sram: size must be in [1, 1.1259e+15] B, got 1e+30"));
  CHECK_THROWS_WITH(r.size_bytes("sram_s", "1 KiB"), Contains("/engine/sram_s: size must be in"));
  CHECK_THROWS_WITH(r.frequency_hz("clock", "1 GHz"),
                    Contains("p.json: /engine/clock: frequency must be in [1000, 1e+12] Hz"));
  CHECK_THROWS_WITH(r.frequency_hz("slow", "1 GHz"), Contains("/engine/slow: frequency"));
  CHECK_THROWS_WITH(r.positive_integer("rows"),
                    Contains("p.json: /engine/rows: integer 9223372036854775807 is beyond the "
                             "accepted range +-2^53"));
  CHECK_THROWS_WITH(r.integer("u"), Contains("/engine/u: integer 18446744073709551615 is beyond"));
  CHECK_THROWS_WITH(r.integer("neg"), Contains("/engine/neg: integer -9007199254740993 is beyond"));
  CHECK(r.integer("big") == (std::int64_t{1} << 53));  // the bound itself is accepted
  CHECK_THROWS_WITH(r.integer("f"), Contains("/engine/f: integer 1e+17 is beyond"));
}

TEST_CASE("read_json_file: numbers beyond a double and duplicate keys", "[common][params]") {
  const auto dir = std::filesystem::temp_directory_path() / "tessera_params_json";
  std::filesystem::create_directories(dir);
  auto write = [&](const std::string& name, const std::string& text) {
    const auto p = (dir / name).string();
    std::ofstream(p) << text;
    return p;
  };
  const auto huge = write("huge.json", R"({"engine": {"clock": 1e400}})");
  CHECK_THROWS_WITH(read_json_file(huge),
                    Contains("huge.json: malformed JSON: number overflow parsing '1e400'"));
  const auto dup = write("dup.json", R"({"a": [1, {"x": {"y": 1}}, {"b": 1, "c": 2, "b": 3}]})");
  CHECK_THROWS_WITH(read_json_file(dup), Contains("dup.json: /a/2/b: duplicate key 'b'"));
  const auto top = write("top.json", R"({"k": {"a": 1}, "k": 2})");
  CHECK_THROWS_WITH(read_json_file(top), Contains("top.json: /k: duplicate key 'k'"));
  // The same key in different objects, and nested arrays, are fine.
  const auto ok = write("ok.json", R"({"a": {"x": 1}, "b": {"x": [[1, {"x": 2}], {"x": 3}]}})");
  CHECK(read_json_file(ok)["b"]["x"][1]["x"] == 3);
  std::filesystem::remove_all(dir);
}
