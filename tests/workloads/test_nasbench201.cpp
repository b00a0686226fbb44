// NAS-Bench-201 networks: MACs and parameters of several architectures against closed forms
// derived here from the TinyNetwork structure, graph shape, datasets, and bad strings.
#include <catch2/catch.hpp>

#include "common/error.hpp"
#include "workloads/frontend.hpp"
#include "workloads/nasbench201.hpp"

using namespace tessera;
using namespace tessera::workloads;
using Catch::Contains;

namespace {

// The best CIFAR-10 architectures of the shipped table (94.37 % test accuracy).
const std::string kBest =
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_3x3~"
    "2|";
const std::string kFiveConv =
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~"
    "2|";
const std::string kAllConv =
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~"
    "2|";
const std::string kAllNone = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|";
const std::string kNoMacs =
    "|avg_pool_3x3~0|+|skip_connect~0|none~1|+|avg_pool_3x3~0|skip_connect~1|avg_pool_3x3~2|";

// Closed forms for input hw x hw (32 CIFAR, 16 ImageNet16), `classes` outputs, batch n, and a cell
// with n3 nor_conv_3x3 and n1 nor_conv_1x1 edges. Stages have C = 16, 32, 64 channels on hw,
// hw/2, hw/4; every cell is stride 1 with C -> C convolutions (no bias) and a BN of 2C params.
struct Expected {
  i64 macs, params;
};

Expected expected(i64 hw, i64 classes, i64 n, i64 n3, i64 n1) {
  i64 macs = n * hw * hw * 16 * 3 * 9;  // stem conv3x3 3 -> 16
  i64 params = 3 * 16 * 9 + 2 * 16;     // stem conv + BN
  for (int stage = 0; stage < 3; ++stage) {
    const i64 c = 16 << stage, s = hw >> stage;
    if (stage > 0) {
      // ResNet basic block c/2 -> c, stride 2: conv_a 3x3, conv_b 3x3, shortcut pool + 1x1 conv.
      const i64 cin = c / 2;
      macs += n * s * s * (c * cin * 9 + c * c * 9 + c * cin);
      params += c * cin * 9 + 2 * c + c * c * 9 + 2 * c + c * cin;
    }
    // 5 cells per stage.
    macs += 5 * n * s * s * c * c * (9 * n3 + n1);
    params += 5 * (n3 * (c * c * 9 + 2 * c) + n1 * (c * c + 2 * c));
  }
  macs += n * 64 * classes;                   // classifier
  params += 2 * 64 + 64 * classes + classes;  // lastact BN, classifier with bias
  return {macs, params};
}

void check(const Graph& g, Expected e) {
  const GraphTotals t = g.totals();
  CHECK(t.macs == e.macs);
  CHECK(t.params == e.params);
}

}  // namespace

TEST_CASE("nasbench201: MACs and parameters against the closed form", "[nasbench201]") {
  // All-conv3x3 (the largest cell): 1,531,546 params and 220.12 M MACs on CIFAR-10.
  CHECK(expected(32, 10, 1, 6, 0).params == 1'531'546);
  CHECK(expected(32, 10, 1, 6, 0).macs == 220'119'680);
  check(build_nasbench201(kAllConv), expected(32, 10, 1, 6, 0));

  // All-none: only the fixed parts remain.
  //   params 464 (stem) + 14,464 + 57,600 (reductions) + 128 (lastact) + 650 (classifier)
  //   MACs   442,368 + 2 * 3,670,016 + 640
  CHECK(expected(32, 10, 1, 0, 0).params == 73'306);
  CHECK(expected(32, 10, 1, 0, 0).macs == 7'783'040);
  check(build_nasbench201(kAllNone), expected(32, 10, 1, 0, 0));

  // Difference all-conv3x3 minus all-none: 6 edges * 5 cells * sum over stages of
  // hw_s^2 * C_s^2 * 9 = 30 * 3 * 2,359,296 MACs (every stage has the same hw^2 * C^2).
  CHECK(build_nasbench201(kAllConv).totals().macs - build_nasbench201(kAllNone).totals().macs ==
        30 * 3 * i64{2'359'296});

  // Four conv3x3 and one conv1x1: 1.07 M params, 153.27 M MACs (the figures NATS-Bench lists
  // for its best CIFAR-10 cell).
  CHECK(expected(32, 10, 1, 4, 1).params == 1'073'466);
  CHECK(expected(32, 10, 1, 4, 1).macs == 153'272'960);
  check(build_nasbench201(kBest), expected(32, 10, 1, 4, 1));
  // Five conv3x3 (its neighbour in the table, 94.36 %): 1.29 M params, 184.73 M MACs.
  CHECK(expected(32, 10, 1, 5, 0).params == 1'288'506);
  CHECK(expected(32, 10, 1, 5, 0).macs == 184'730'240);
  check(build_nasbench201(kFiveConv), expected(32, 10, 1, 5, 0));

  // Pools and skips have no MACs or parameters.
  check(build_nasbench201(kNoMacs), expected(32, 10, 1, 0, 0));

  // Datasets and batch.
  check(build_nasbench201(kBest, "cifar100"), expected(32, 100, 1, 4, 1));
  check(build_nasbench201(kBest, "ImageNet16-120"), expected(16, 120, 1, 4, 1));
  LoadOptions batch;
  batch.batch = 8;
  check(build_nasbench201(kBest, "cifar10", batch), expected(32, 10, 8, 4, 1));
}

TEST_CASE("nasbench201: graph structure", "[nasbench201]") {
  const Graph g = build_nasbench201(kBest);
  CHECK_NOTHROW(g.topological_order());
  // Node 3 of cell 0 sums the skip from node 0 (the stem's BN), the conv1x1 from node 1 and the
  // conv3x3 from node 2.
  const auto add = *g.find("cells.0.node3.add");
  CHECK(std::get<Elementwise>(g.op(add).shape).inputs == 3);
  CHECK(g.producers(add) == std::vector{*g.find("stem.bn"), *g.find("cells.0.node3.from1.bn"),
                                        *g.find("cells.0.node3.from2.bn")});
  const auto& conv = std::get<Conv>(g.op(*g.find("cells.0.node3.from1.conv")).shape);
  CHECK(conv.r == 1);
  CHECK(conv.pad_top == 0);
  // Node 1 has one input: its value is the BN itself, no add.
  CHECK_FALSE(g.find("cells.0.node1.add"));
  // Reductions sit at TinyNetwork's indices 5 and 11; the last cell is 16.
  const auto& red = std::get<Conv>(g.op(*g.find("cells.11.conv_a.conv")).shape);
  CHECK(red.stride_h == 2);
  CHECK(red.c == 32);
  CHECK(red.k == 64);
  CHECK(red.p() == 8);
  CHECK(g.find("cells.16.node3.add"));
  CHECK(g.op(*g.find("cells.16.node3.add")).source ==
        "nasbench201:cifar10:" + kBest + ": cells.16.node3 sum");
  const auto& fc = std::get<MatMul>(g.op(*g.find("classifier")).shape);
  CHECK(fc.k == 64);
  CHECK(fc.n == 10);

  // All-none: each cell's nodes are zeros (one zero op per node, fed from the cell input, so the
  // graph stays connected).
  const Graph none = build_nasbench201(kAllNone);
  const auto zero = *none.find("cells.2.node3.zero");
  CHECK(none.producers(zero) == std::vector{*none.find("cells.1.node3.zero")});
  CHECK(none.consumers(*none.find("cells.4.node3.zero")) ==
        std::vector{*none.find("cells.5.conv_a.relu"), *none.find("cells.5.downsample.pool")});

  // avg_pool_3x3: 3x3, stride 1, padding 1.
  const Graph pool = build_nasbench201(kNoMacs);
  const auto& p = std::get<Pool>(pool.op(*pool.find("cells.6.node1.from0.pool")).shape);
  CHECK(p.r == 3);
  CHECK(p.p() == 16);
  CHECK(p.type == PoolType::avg);
}

TEST_CASE("nasbench201: workload specs", "[nasbench201]") {
  CHECK(is_nasbench201_spec("nasbench201:" + kBest));
  CHECK_FALSE(is_nasbench201_spec("configs/models/gpt2.json"));
  // The trained network's parameters (batch norms not folded), as NAS-Bench-201 counts them.
  LoadOptions unfolded;
  unfolded.fold_batch_norms = false;
  const Graph g = load_workload("nasbench201:" + kBest, unfolded);
  check(g, expected(32, 10, 1, 4, 1));
  CHECK(g.name() == "nasbench201-cifar10-" + kBest);
  LoadOptions o = unfolded;
  o.batch = 2;
  check(load_workload("nasbench201:cifar100:" + kAllConv, o), expected(32, 100, 2, 6, 0));
  // Loaded as usual, each convolution's batch norm folds into it: the same MACs.
  const Graph folded = load_workload("nasbench201:" + kBest);
  CHECK(folded.totals().macs == g.totals().macs);
  CHECK(folded.size() < g.size());
  CHECK_THROWS_WITH(load_workload("nasbench201:svhn:" + kBest),
                    Contains("unknown dataset 'svhn'") && Contains("ImageNet16-120"));
  CHECK_THROWS_WITH(load_workload("nasbench201:nor_conv_3x3"),
                    Contains("expected nasbench201:<arch> or nasbench201:<dataset>:<arch>"));
}

TEST_CASE("nasbench201: bad architecture strings", "[nasbench201]") {
  auto fails = [](const std::string& arch, const std::string& message) {
    INFO(arch);
    CHECK_THROWS_AS(parse_nasbench201_arch(arch), InputError);
    CHECK_THROWS_WITH(parse_nasbench201_arch(arch), Contains(message));
  };
  fails("", "character 1: expected '|' opening the inputs of node 1, got the end of the string");
  fails("|conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|",
        "character 2: expected an operation for edge 0->1 (none, skip_connect, nor_conv_1x1, "
        "nor_conv_3x3, avg_pool_3x3), got 'conv_3x3'");
  fails("|none~1|+|none~0|none~1|+|none~0|none~1|none~2|", "character 7: expected input index 0");
  fails("|none~0|+|none~0|none~2|+|none~0|none~1|none~2|", "character 23: expected input index 1");
  fails("|none~0|+|none~0|+|none~0|none~1|none~2|", "character 18: expected an operation");
  fails("|none~0||none~0|none~1|+|none~0|none~1|none~2|", "character 9: expected '+'");
  fails("|none0|+|none~0|none~1|+|none~0|none~1|none~2|",
        "character 2: expected an operation for edge 0->1");
  fails("|none~0|+|none~0|none~1|+|none~0|none~1|", "character 41: expected an operation");
  fails(kBest + "+|none~0|", "expected the end of the string");
  CHECK_NOTHROW(parse_nasbench201_arch(kBest));
  CHECK(parse_nasbench201_arch(kBest).ops[4] == "nor_conv_1x1");
}
