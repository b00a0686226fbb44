#include "workloads/nasbench201.hpp"

#include <algorithm>
#include <utility>
#include <vector>

#include "common/error.hpp"

namespace tessera::workloads {

namespace {

constexpr std::array<const char*, 5> kOps = {"none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3",
                                             "avg_pool_3x3"};

std::string op_list() {
  std::string s;
  for (const char* op : kOps) s += (s.empty() ? "" : ", ") + std::string(op);
  return s;
}

class ArchParser {
 public:
  explicit ArchParser(const std::string& text) : s_(text) {}

  NasBench201Cell parse() {
    NasBench201Cell cell;
    std::size_t edge = 0;
    for (int node = 1; node <= 3; ++node) {
      if (node > 1) expect('+', "'+' between node groups");
      expect('|', "'|' opening the inputs of node " + std::to_string(node));
      for (int from = 0; from < node; ++from) {
        cell.ops[edge++] = op(node, from);
        expect('~', "'~' after the operation");
        const std::size_t at = pos_;
        if (pos_ >= s_.size() || s_[pos_] != char('0' + from))
          fail(at, "input index " + std::to_string(from) + " (node " + std::to_string(node) +
                       "'s inputs are listed from node 0 up)");
        ++pos_;
        expect('|', "'|' after the input index");
      }
    }
    if (pos_ != s_.size()) fail(pos_, "the end of the string (3 node groups)");
    return cell;
  }

 private:
  [[noreturn]] void fail(std::size_t at, const std::string& expected) const {
    std::string got =
        at >= s_.size()
            ? "the end of the string"
            : "'" + s_.substr(at, std::min<std::size_t>(s_.find_first_of("~|+", at) - at, 20)) +
                  "'";
    if (got == "''") got = "'" + s_.substr(at, 1) + "'";
    throw InputError("nasbench201 architecture \"" + s_ + "\": character " +
                     std::to_string(at + 1) + ": expected " + expected + ", got " + got);
  }
  void expect(char c, const std::string& what) {
    if (pos_ >= s_.size() || s_[pos_] != c) fail(pos_, what);
    ++pos_;
  }
  std::string op(int node, int from) {
    const std::size_t at = pos_;
    const std::size_t end = std::min(s_.find_first_of("~|+", pos_), s_.size());
    const std::string name = s_.substr(pos_, end - pos_);
    if (std::find_if(kOps.begin(), kOps.end(), [&](const char* o) { return name == o; }) ==
        kOps.end())
      fail(at, "an operation for edge " + std::to_string(from) + "->" + std::to_string(node) +
                   " (" + op_list() + ")");
    pos_ = end;
    return name;
  }

  const std::string& s_;
  std::size_t pos_ = 0;
};

struct Dataset {
  i64 image = 32;
  i64 classes = 10;
};

Dataset dataset_of(const std::string& name) {
  if (name == "cifar10" || name == "cifar10-valid") return {32, 10};
  if (name == "cifar100") return {32, 100};
  if (name == "ImageNet16-120" || name == "imagenet16-120") return {16, 120};
  throw InputError("nasbench201: unknown dataset '" + name +
                   "' (known: cifar10, cifar10-valid, cifar100, ImageNet16-120)");
}

class Builder {
 public:
  Builder(Graph& g, std::string source, i64 batch) : g_(g), source_(std::move(source)), n_(batch) {}

  Graph::Node add(const std::string& name, const std::string& what, OpShape shape,
                  const std::vector<Graph::Node>& inputs) {
    Operator op;
    op.name = name;
    op.source = source_ + ": " + what;
    op.shape = std::move(shape);
    validate(op, source_ + ": ");
    const Graph::Node node = g_.add(std::move(op));
    for (Graph::Node in : inputs) g_.connect(in, node);
    return node;
  }

  // ReLU -> Conv (no bias) -> BN on c_in x hw x hw; returns the BN.
  Graph::Node relu_conv_bn(const std::string& name, const std::string& what, Graph::Node in,
                           i64 c_in, i64 c_out, i64 hw, i64 kernel, i64 stride) {
    const i64 pad = kernel / 2;
    const Graph::Node relu =
        add(name + ".relu", what + " ReLU", Elementwise{"relu", size_product({n_, c_in, hw, hw}), 1}, {in});
    Conv conv{.n = n_, .c = c_in, .h = hw, .w = hw, .k = c_out, .r = kernel, .s = kernel};
    conv.stride_h = conv.stride_w = stride;
    conv.pad_top = conv.pad_left = conv.pad_bottom = conv.pad_right = pad;
    const i64 out = conv.p();
    const Graph::Node c = add(name + ".conv", what + " conv", conv, {relu});
    return add(name + ".bn", what + " BN", Norm{NormType::batch, size_product({n_, c_out, out, out}), c_out},
               {c});
  }

  // The NAS-Bench-201 cell on c x hw x hw; returns the producer of node 3.
  Graph::Node cell(const NasBench201Cell& arch, const std::string& name, Graph::Node in, i64 c,
                   i64 hw) {
    std::array<Graph::Node, 4> node{in, in, in, in};
    std::size_t edge = 0;
    for (int j = 1; j <= 3; ++j) {
      std::vector<Graph::Node> terms;
      for (int i = 0; i < j; ++i) {
        const std::string& op = arch.ops[edge++];
        const std::string e = name + ".node" + std::to_string(j) + ".from" + std::to_string(i);
        const std::string what =
            name + " edge " + std::to_string(i) + "->" + std::to_string(j) + " " + op;
        if (op == "none") continue;
        if (op == "skip_connect")
          terms.push_back(node[i]);
        else if (op == "nor_conv_3x3")
          terms.push_back(relu_conv_bn(e, what, node[i], c, c, hw, 3, 1));
        else if (op == "nor_conv_1x1")
          terms.push_back(relu_conv_bn(e, what, node[i], c, c, hw, 1, 1));
        else  // avg_pool_3x3
          terms.push_back(add(e + ".pool", what,
                              Pool{.type = PoolType::avg,
                                   .n = n_,
                                   .c = c,
                                   .h = hw,
                                   .w = hw,
                                   .r = 3,
                                   .s = 3,
                                   .stride_h = 1,
                                   .stride_w = 1,
                                   .pad_top = 1,
                                   .pad_left = 1,
                                   .pad_bottom = 1,
                                   .pad_right = 1},
                              {node[i]}));
      }
      const std::string nj = name + ".node" + std::to_string(j);
      const i64 elements = size_product({n_, c, hw, hw});
      if (terms.empty())  // every input edge is `none`: the node is zeros (PyTorch: x.mul(0))
        node[j] =
            add(nj + ".zero", nj + " all inputs none", Elementwise{"zero", elements, 1}, {node[0]});
      else if (terms.size() == 1)
        node[j] = terms[0];
      else
        node[j] = add(nj + ".add", nj + " sum",
                      Elementwise{"add", elements, static_cast<i64>(terms.size())}, terms);
    }
    return node[3];
  }

  // ResNetBasicblock(c_in -> c_out, stride 2) on c_in x hw x hw.
  Graph::Node reduction(const std::string& name, Graph::Node in, i64 c_in, i64 c_out, i64 hw) {
    const Graph::Node a =
        relu_conv_bn(name + ".conv_a", name + " conv_a", in, c_in, c_out, hw, 3, 2);
    const i64 out = hw / 2;
    const Graph::Node b =
        relu_conv_bn(name + ".conv_b", name + " conv_b", a, c_out, c_out, out, 3, 1);
    const Graph::Node pool = add(name + ".downsample.pool", name + " downsample AvgPool2x2",
                                 Pool{.type = PoolType::avg,
                                      .n = n_,
                                      .c = c_in,
                                      .h = hw,
                                      .w = hw,
                                      .r = 2,
                                      .s = 2,
                                      .stride_h = 2,
                                      .stride_w = 2},
                                 {in});
    const Graph::Node conv =
        add(name + ".downsample.conv", name + " downsample conv1x1",
            Conv{.n = n_, .c = c_in, .h = out, .w = out, .k = c_out, .r = 1, .s = 1}, {pool});
    return add(name + ".add", name + " residual sum", Elementwise{"add", size_product({n_, c_out, out, out}), 2},
               {b, conv});
  }

 private:
  Graph& g_;
  std::string source_;
  i64 n_;
};

}  // namespace

NasBench201Cell parse_nasbench201_arch(const std::string& arch) { return ArchParser(arch).parse(); }

Graph build_nasbench201(const std::string& arch, const std::string& dataset,
                        const LoadOptions& options) {
  const NasBench201Cell cell = parse_nasbench201_arch(arch);
  const Dataset data = dataset_of(dataset);
  const i64 n = options.batch.value_or(1);
  if (n < 1) throw InputError("nasbench201: batch must be >= 1, got " + std::to_string(n));

  Graph g("nasbench201-" + dataset + "-" + arch);
  Builder b(g, "nasbench201:" + dataset + ":" + arch, n);
  i64 c = 16, hw = data.image;
  Conv stem{.n = n, .c = 3, .h = hw, .w = hw, .k = c, .r = 3, .s = 3};
  stem.pad_top = stem.pad_left = stem.pad_bottom = stem.pad_right = 1;
  Graph::Node x = b.add("stem.conv", "stem conv3x3", stem, {});
  x = b.add("stem.bn", "stem BN", Norm{NormType::batch, size_product({n, c, hw, hw}), c}, {x});
  // TinyNetwork's cell list: 5 cells, reduction, 5 cells, reduction, 5 cells (indices 0..16).
  int index = 0;
  for (int stage = 0; stage < 3; ++stage) {
    if (stage > 0) {
      x = b.reduction("cells." + std::to_string(index++), x, c, 2 * c, hw);
      c *= 2;
      hw /= 2;
    }
    for (int k = 0; k < 5; ++k) x = b.cell(cell, "cells." + std::to_string(index++), x, c, hw);
  }
  x = b.add("lastact.bn", "lastact BN", Norm{NormType::batch, size_product({n, c, hw, hw}), c}, {x});
  x = b.add("lastact.relu", "lastact ReLU", Elementwise{"relu", size_product({n, c, hw, hw}), 1}, {x});
  x = b.add("global_pooling", "global average pooling",
            Pool{.type = PoolType::avg,
                 .global = true,
                 .n = n,
                 .c = c,
                 .h = hw,
                 .w = hw,
                 .r = hw,
                 .s = hw},
            {x});
  b.add("classifier", "classifier",
        MatMul{.batch = 1, .m = n, .n = data.classes, .k = c, .bias = true}, {x});
  return g;
}

bool is_nasbench201_spec(const std::string& spec) { return spec.rfind(kNasBench201Prefix, 0) == 0; }

Graph load_nasbench201_spec(const std::string& spec, const LoadOptions& options) {
  const std::string rest = spec.substr(std::string(kNasBench201Prefix).size());
  // The architecture starts with '|'; anything before it (up to a ':') names the dataset.
  if (!rest.empty() && rest[0] == '|') return build_nasbench201(rest, "cifar10", options);
  const std::size_t colon = rest.find(':');
  if (colon == std::string::npos)
    throw InputError("workload '" + spec +
                     "': expected nasbench201:<arch> or nasbench201:<dataset>:<arch>, where "
                     "<arch> looks like |nor_conv_3x3~0|+|...|");
  return build_nasbench201(rest.substr(colon + 1), rest.substr(0, colon), options);
}

}  // namespace tessera::workloads
