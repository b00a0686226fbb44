// SCALE-Sim v2 topology CSV: the reference topologies give the layer sizes SCALE-Sim itself
// reported (data/reference/scalesim/results.csv), the shipped ResNet-18 gives torchvision's
// MAC count, and each kind of bad file is reported with FILE:LINE and the field.
#include <fstream>
#include <map>
#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "workloads/frontend.hpp"
#include "workloads/scalesim_topology.hpp"

using namespace tessera;
using namespace tessera::workloads;
using Catch::Contains;
using Catch::EndsWith;

namespace {

const std::string kScaleSim = std::string(TESSERA_SOURCE_DIR) + "/data/reference/scalesim/";
const std::string kData = std::string(TESSERA_TEST_DATA) + "/workloads/";

struct Reference {
  i64 m, n, k, macs;
};

// layer -> (M, N, K, MACs) as SCALE-Sim reported them; the same for every dataflow and array.
std::map<std::string, Reference> reference_layers() {
  std::ifstream in(kScaleSim + "results.csv");
  REQUIRE(in);
  std::string line;
  std::getline(in, line);  // header: ...,layer,kind,M,N,K,macs,... (columns 9 to 14)
  std::map<std::string, Reference> out;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream row(line);
    for (std::string cell; std::getline(row, cell, ',');) f.push_back(cell);
    REQUIRE(f.size() > 14);
    out[f[9]] = {std::stoll(f[11]), std::stoll(f[12]), std::stoll(f[13]), std::stoll(f[14])};
  }
  return out;
}

// SCALE-Sim's GEMM view of an operator: a conv is M = output pixels, N = filters, K = R*S*C.
Reference as_gemm(const Operator& op) {
  if (const auto* m = std::get_if<MatMul>(&op.shape)) return {m->m, m->n, m->k, op.macs()};
  const auto& c = std::get<Conv>(op.shape);
  return {c.p() * c.q(), c.k, c.r * c.s * c.c / c.groups, op.macs()};
}

Graph parse(const std::string& text, const std::string& file = "topo.csv") {
  std::istringstream in(text);
  return read_scalesim_topology(in, file);
}

std::string error_of(const std::string& text) {
  try {
    parse(text);
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

const std::string kConvHeader =
    "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
    "Strides,\n";

}  // namespace

TEST_CASE("the reference topologies give SCALE-Sim's own layer sizes", "[workloads][scalesim]") {
  const auto reference = reference_layers();
  for (const char* name : {"gemm_64x64x64", "mbv1_pw_1x1", "r18_conv2_3x3", "r18_conv3_ds1x1s2"}) {
    INFO(name);
    const std::string path = kScaleSim + "topologies/" + name + ".csv";
    REQUIRE(looks_like_scalesim_topology(path));
    const Graph g = load_workload(path);
    CHECK(g.name() == name);
    REQUIRE(g.size() == 1);
    const Operator& op = g.op(0);
    CHECK(op.source == path + ":2");
    CHECK(op.precision == Precision{8, 8});
    const Reference got = as_gemm(op);
    const Reference& want = reference.at(name);
    CHECK(got.m == want.m);
    CHECK(got.n == want.n);
    CHECK(got.k == want.k);
    CHECK(got.macs == want.macs);
  }
}

TEST_CASE("r18_conv2_3x3 in detail", "[workloads][scalesim]") {
  const Graph g = read_scalesim_topology(kScaleSim + "topologies/r18_conv2_3x3.csv");
  const auto& c = std::get<Conv>(g.op(0).shape);
  CHECK(c == Conv{.c = 64, .h = 58, .w = 58, .k = 64, .r = 3, .s = 3});
  CHECK(c.p() == 56);
  CHECK(c.q() == 56);
  CHECK(g.op(0).macs() == 115605504);  // 56*56 * 64 * 576
}

TEST_CASE("a GEMM row is a weight matmul", "[workloads][scalesim]") {
  const Graph g = parse("Layer, M, N, K,\nfc,12,34,56,\n");
  CHECK(std::get<MatMul>(g.op(0).shape) == MatMul{.batch = 1, .m = 12, .n = 34, .k = 56});
  CHECK(g.op(0).params() == 56 * 34);
}

TEST_CASE("depthwise layers, CRLF, blank lines and spaces", "[workloads][scalesim]") {
  const Graph g = read_scalesim_topology(kData + "dp_crlf.csv");
  CHECK(g.name() == "dp_crlf");
  REQUIRE(g.size() == 3);
  CHECK(g.op(0).name == "conv1");
  CHECK_THAT(g.op(0).source, EndsWith("dp_crlf.csv:3"));
  CHECK_THAT(g.op(1).source, EndsWith("dp_crlf.csv:5"));
  CHECK_THAT(g.op(2).source, EndsWith("dp_crlf.csv:6"));
  const auto& dp = std::get<Conv>(g.op(1).shape);
  CHECK(dp.groups == 16);
  CHECK(dp.k == 16);
  CHECK(dp.stride_h == 2);
  CHECK(dp.stride_w == 2);
  CHECK(g.op(1).macs() == 36864);  // 16 channels * 16*16 outputs * 3*3
  CHECK(g.op(1).params() == 144);  // 16 * 3*3
  // Layers are independent, as SCALE-Sim runs them: no edges, file order.
  for (Graph::Node n = 0; n < g.size(); ++n) CHECK(g.producers(n).empty());
  CHECK(g.topological_order() == std::vector<Graph::Node>{0, 1, 2});
}

TEST_CASE("the shipped ResNet-18 has torchvision's conv MACs", "[workloads][scalesim]") {
  const Graph g =
      load_workload(std::string(TESSERA_SOURCE_DIR) + "/configs/workloads/resnet18_scalesim.csv");
  CHECK(g.size() == 20);
  std::ifstream in(std::string(TESSERA_SOURCE_DIR) + "/data/reference/model_macs.json");
  const auto reference = nlohmann::json::parse(in)["models"]["resnet18"];
  const i64 fc_macs = 512 * 1000;  // the one layer a conv topology cannot hold
  CHECK(g.totals().macs == reference["macs"].get<i64>() - fc_macs);
  CHECK(g.totals().params == 11166912);  // conv weights; torchvision's total adds BN and fc
  const auto& stem = std::get<Conv>(g.op(0).shape);
  CHECK(stem.p() == 112);
  CHECK(stem.stride_h == 2);
  CHECK(std::get<Conv>(g.op(19).shape).p() == 7);
}

TEST_CASE("bad topologies name FILE:LINE and the field", "[workloads][scalesim]") {
  CHECK_THROWS_WITH(read_scalesim_topology(kData + "short_row.csv"),
                    Contains("short_row.csv:3: expected 8 fields (Layer name, IFMAP Height,") &&
                        Contains("Strides), got 5"));
  CHECK_THROWS_WITH(read_scalesim_topology(kData + "bad_number.csv"),
                    Contains("bad_number.csv:3: N: expected a positive integer, got 'sixty-four'"));
  CHECK_THROWS_WITH(read_scalesim_topology(kData + "header_only.csv"),
                    Contains("header_only.csv: no layers after the header"));
  CHECK_THROWS_WITH(read_scalesim_topology(kData + "filter_too_big.csv"),
                    Contains("filter_too_big.csv:2: operator 'big': the filter does not fit"));
  CHECK_THROWS_WITH(read_scalesim_topology(kData + "not_a_topology.csv"),
                    Contains("not_a_topology.csv:1: not a SCALE-Sim topology header"));
  CHECK_THROWS_WITH(read_scalesim_topology(kData + "missing.csv"),
                    Contains("missing.csv: cannot open file"));
  CHECK_FALSE(looks_like_scalesim_topology(kData + "not_a_topology.csv"));

  CHECK_THAT(error_of(""), Contains("topo.csv: empty file"));
  CHECK_THAT(error_of(kConvHeader + "c,8,8,3,3,4,0,1,\n"),
             Contains("topo.csv:2: Num Filter: expected a positive integer, got '0'"));
  CHECK_THAT(error_of(kConvHeader + "c,8,8,3,3,-4,4,1,\n"),
             Contains("topo.csv:2: Channels: expected a positive integer, got '-4'"));
  CHECK_THAT(error_of(kConvHeader + "c,8,8,3,3,4,4,1.5,\n"),
             Contains("topo.csv:2: Strides: expected a positive integer, got '1.5'"));
  CHECK_THAT(error_of(kConvHeader + "c,8,8,3,3,4,4,1,9,\n"), Contains("expected 8 fields"));
  CHECK_THAT(error_of(kConvHeader + ",8,8,3,3,4,4,1,\n"),
             Contains("topo.csv:2: the layer name is empty"));
  CHECK_THAT(error_of(kConvHeader + "DP1,8,8,3,3,4,2,1,\n"),
             Contains("topo.csv:2: Num Filter: a depthwise (DP) layer must have 1 filter, got 2"));
  CHECK_THAT(error_of(kConvHeader + "a,8,8,3,3,4,4,1,\na,6,6,3,3,4,4,1,\n"),
             Contains("topo.csv:3: layer name 'a' is already used at topo.csv:2"));
}
