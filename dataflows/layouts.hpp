// Where an operator's tensors lie in off-chip memory and how an engine's tiles walk them
// (dataflows::Layout, for the detailed DRAM model): activations NHWC (a pixel's channels
// together), weights filter by filter (each filter's R x S x C words together, as ONNX and
// PyTorch store them), GEMM operands row-major.
#pragma once

#include "dataflows/gemm.hpp"
#include "dataflows/tile_plan.hpp"

namespace tessera::dataflows {

// A row-major matrix of `row_bytes` per row and `extent` bytes, read in tiles of `tile` of its
// `whole` row elements (contiguous when the tile spans the row).
Layout matrix_layout(double row_bytes, i64 tile, i64 whole, u64 extent);

// The input of `op` read once, a K tile of `k_tile` of the GEMM's K words at a time, at `bits`
// per word: for a convolution (NHWC) a tile narrower than a pixel's channels takes its channel
// slice of every pixel (runs of k_tile words, a pixel's channels apart), a wider one whole
// pixels; for the others A's rows of K.
Layout input_layout(const workloads::Operator& op, const GemmView& g, int bits, i64 k_tile);

// The input of a convolution read as im2col rows, each output pixel's receptive field (R runs
// of S x C words, a W x C line apart; consecutive pixels stride x C words on, rows of Q pixels
// stride x W x C on), halos read again: the demand stream of an engine that keeps no input
// rows. A tile takes `k_tile` of each field's K words. Other operators (and grouped, dilated
// or transposed convolutions, whose fields are not such runs): input_layout.
Layout window_layout(const workloads::Operator& op, const GemmView& g, int bits, i64 k_tile);

// The input of a convolution read in tiles of oh_tile x ow_tile output pixels: each tile the
// block of input rows and columns its pixels need, halos included (consecutive tiles overlap
// by the filter's extent less the stride), whole pixels when c_tile covers the channels; a
// narrower c_tile, or another operator: input_layout.
Layout tile_layout(const workloads::Operator& op, const GemmView& g, int bits, i64 oh_tile,
                   i64 ow_tile, i64 c_tile);

// The weights as N filters of K words (a tile of `k_tile` of each filter's words), outputs and
// partial sums as M pixels of N channels (a tile of `n_tile` channels of each).
Layout weight_layout(const GemmView& g, int bits, i64 k_tile);
Layout output_layout(const GemmView& g, int bits, i64 n_tile);

}  // namespace tessera::dataflows
