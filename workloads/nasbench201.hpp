// NAS-Bench-201 / NATS-Bench topology-space networks from an architecture string such as
// |nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|
// The macro network is the benchmark's TinyNetwork (stem, 3 stages of 5 cells joined by residual
// reduction blocks, BN-ReLU, global pooling, classifier); docs/transformers.md, "NAS-Bench-201".
#pragma once

#include <array>
#include <string>

#include "workloads/frontend.hpp"

namespace tessera::workloads {

// The cell's six edges in string order: 1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2.
struct NasBench201Cell {
  std::array<std::string, 6> ops;
};

// Parses and validates an architecture string. InputError names the character position and the
// expected token.
NasBench201Cell parse_nasbench201_arch(const std::string& arch);

// Builds the network for `dataset`: cifar10 (also cifar10-valid; 32x32, 10 classes), cifar100
// (32x32, 100) or ImageNet16-120 (16x16, 120). options.batch sets N (default 1).
Graph build_nasbench201(const std::string& arch, const std::string& dataset = "cifar10",
                        const LoadOptions& options = {});

// Workload specs for --workload: "nasbench201:<arch>" (cifar10) or
// "nasbench201:<dataset>:<arch>".
inline constexpr const char* kNasBench201Prefix = "nasbench201:";
bool is_nasbench201_spec(const std::string& spec);
Graph load_nasbench201_spec(const std::string& spec, const LoadOptions& options = {});

}  // namespace tessera::workloads
