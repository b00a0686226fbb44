// Dysta's Eyeriss-v2 latency model (the `sparse.mode=dysta` reference mode), as the artefact of
// Fan et al., "Dysta: Sparsity-aware dynamic and static scheduling for sparse multi-DNN
// workloads" (MICRO 2023) computes it: hw_simulator/cnn_eyerissv2/hw_eyerissv2.py of
// SamsungLabs/Sparse-Multi-DNN-Scheduling (commit b9f1913), re-derived here from its text.
//
// Per layer (one image): a fixed mapping from the layer's shape (C0 channels and F0 output rows
// per PE, clusters of 3 × 4 PEs in an 8 × 2 mesh, M0 = 32 filters) and
//   cycles = int((4 · valid + act_checks + weight_checks) / 192)
// where valid is the count of effectual MACs of the layer run at stride 1 with 'same' padding
// (whatever its real stride), act_checks = M1·F1·C1·S1·M2·F2·C2·S2·E·F0, and weight_checks =
// 2·M1·S1·M2·S2 times the count of (channel, output-row window) pairs of the input with a
// non-zero. Its quirks are kept: strides ignored (output width = input width), an input whose
// width is padded is padded in height by as much, rows are counted over a flat reshape of each
// channel (a no-op permute before it), windows stop at the F0 boundary, out_channel/groups is
// a float, and the sum is float32 arithmetic as in PyTorch (each term rounded to float32, the
// division by 192 in float32, then truncated). `valid` itself is PyTorch's float32 sum of the
// convolution's output, in the order of its CPU kernel (ATen's cascade sum over vectors of 8
// floats, one thread): beyond 2^24 the order changes the last bits, and the cycles with them.
//
// Owns the model; may include arch/sparse/masks.hpp.
#pragma once

#include <cstdint>

#include "arch/sparse/masks.hpp"

namespace tessera::arch::sparse {

struct DystaLayer {
  u64 cycles = 0;
  u64 valid_macs = 0;       // effectual MACs at stride 1, 'same' padding
  u64 act_checks = 0;
  u64 weight_checks = 0;
  u64 nonzero_windows = 0;  // the count weight_checks multiplies
  // The mapping the artefact chooses.
  i64 c0 = 0, c1 = 0, c2 = 0, f0 = 0, f1 = 0, f2 = 0, s1 = 0, s2 = 0, m1 = 0, m2 = 0, e = 0;
  double m0 = 0;
};

// The model on one layer with its masks (weight and input layouts of masks.hpp). Throws
// UnsupportedError where the artefact fails (its asserts and math errors), naming why.
DystaLayer dysta_layer(const LayerShape& shape, const Mask& weight, const Mask& input);

}  // namespace tessera::arch::sparse
