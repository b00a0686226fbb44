// What the butterfly linear layer and the FFT operators (operator.hpp: Butterfly, Fft) compute,
// as plain reference arithmetic: the tests hold it against a dense matrix product and a direct
// DFT, and the operator counts (MACs, parameters) follow the same loops. Nothing here is timed.
//
// A butterfly of size N (a power of two) has log2 N stages; stage s pairs the elements j and
// j + 2^s for every j whose bit s is clear (N/2 pairs, taken in increasing j), and each pair goes
// through its own 2x2 block [a b; c d]: y_j = a x_j + b x_{j+2^s}, y_{j+2^s} = c x_j + d x_{j+2^s}.
// A radix-2 FFT is the same network on bit-reversed input with twiddle blocks
// [1 w; 1 -w], w = exp(-2 pi i k / 2^{s+1}), k = j mod 2^s.
//
// Owns only arithmetic; may include nothing above workloads/.
#pragma once

#include <complex>
#include <cstdint>
#include <vector>

namespace tessera::workloads {

using i64 = std::int64_t;
using Complex = std::complex<double>;

// The smallest power of two >= v (v >= 1).
i64 ceil_pow2(i64 v);
// log2 of a power of two.
int log2_pow2(i64 pow2);

// Weights of one butterfly of size N: stage by stage, block by block, [a, b, c, d] each, so
// log2(N) * N/2 * 4 values.
std::size_t butterfly_weight_count(i64 n);

// y = B x for one butterfly (x.size() == N, a power of two). `multiplies`, when given, counts the
// real multiplications done (4 per block).
std::vector<double> butterfly_apply(const std::vector<double>& x,
                                    const std::vector<double>& weights, i64* multiplies = nullptr);
// The same butterfly as a dense N x N matrix (row-major), the product of its stage matrices.
std::vector<double> butterfly_dense(i64 n, const std::vector<double>& weights);

// A rectangular butterfly layer as the Butterfly accelerator builds it: in and out rounded up to
// powers of two N_in, N_out; the input is zero-padded to N_in; out > in runs N_out / N_in
// butterflies of size N_in and concatenates them (`weights` holds their weights one after the
// other); otherwise one butterfly of size N_in whose first `out` outputs are kept.
std::vector<double> butterfly_layer(const std::vector<double>& x, i64 in, i64 out,
                                    const std::vector<double>& weights, i64* multiplies = nullptr);
// Butterflies of size N_in a layer in -> out runs.
i64 butterfly_copies(i64 in, i64 out);

// In-place radix-2 FFT (decimation in time) of a power-of-two length, through the butterfly
// network above. `butterflies`, when given, counts the radix-2 butterflies done.
void fft_radix2(std::vector<Complex>& x, i64* butterflies = nullptr);
// The direct O(N^2) DFT, X_k = sum_j x_j exp(-2 pi i j k / N), for any N.
std::vector<Complex> dft_direct(const std::vector<Complex>& x);

// The FNet token mixer on an L x D real matrix (row-major): D-point FFTs over the L rows, then
// L-point FFTs over the D columns, real part kept. L and D powers of two.
std::vector<double> fourier_mix(const std::vector<double>& x, i64 rows, i64 cols);
// The same by direct DFTs (any sizes): the reference the tests compare against.
std::vector<double> fourier_mix_direct(const std::vector<double>& x, i64 rows, i64 cols);

}  // namespace tessera::workloads
