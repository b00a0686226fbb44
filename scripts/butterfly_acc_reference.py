#!/usr/bin/env python3
"""Regenerates tests/data/butterfly_acc/latency.csv from the Butterfly accelerator's own
performance model (SamsungLabs/Butterfly_Acc, hardware/npu_design/simulator).

Usage: scripts/butterfly_acc_reference.py ARTEFACT_SIMULATOR_DIR > tests/data/butterfly_acc/latency.csv

For every row it instantiates the artefact's Butterfly_Accelerator exactly as its
simulator_bfly.py does, runs the same four calls (two FFT passes, two butterfly layers), and
records each call's cycles, the layer's cycles and the end-to-end latency in ms computed as
simulator_bfly.py computes it. For the speed-benchmark rows (speed_benchmark_sim.sh) it also runs
simulator_bfly.py itself and checks that its printed latency is the one recorded.
"""
import contextlib
import io
import os
import re
import subprocess
import sys

BOARDS = {  # as simulator_bfly.py sets them: (fpga_board, offchip_mem, in/coef/out bits per cycle)
    "vcu128": ("zcu128", "hbm", 2048, 256, 2048),
    "zynq7045": ("zynq7045", "ddr3", 64, 64, 128),
}
VERSIONS = {"base": (12, 768, 3072), "large": (24, 1024, 4096)}
FREQUENCY_MHZ = 200
EFFICIENCY = 0.85
HEAD_DIM = 32  # simulator_bfly.py's default (unused by the butterfly model)


def rows():
    # The speed benchmark (speed_benchmark_sim.sh): P_BE 120 on VCU128, 20 on Zynq 7045.
    for board, pbe in (("vcu128", 120), ("zynq7045", 20)):
        for version in ("base", "large"):
            for seq in (128, 256, 512, 768, 1024):
                yield board, version, seq, pbe, 4, True
    # Settings outside the benchmark: other lengths (not multiples of P_BE, one or two runs,
    # long sequences) and other engine and unit counts.
    for board, pbe in (("vcu128", 120), ("zynq7045", 20)):
        for version in ("base", "large"):
            for seq in (2, 64, 100, 240, 241, 300, 2048, 4096):
                yield board, version, seq, pbe, 4, False
    for board in ("vcu128", "zynq7045"):
        for pbe in (1, 16, 32, 64, 128):
            for pbu in (1, 2, 4, 8):
                yield board, "large", 512, pbe, pbu, False


def number(c):
    """Cycles as the artefact left them: an integer, or its float when it has a fraction."""
    return str(int(c)) if float(c).is_integer() else repr(float(c))


def main():
    sim_dir = sys.argv[1]
    sys.path.insert(0, sim_dir)
    from bfly_accelerator import Butterfly_Accelerator  # noqa: E402

    print("board,version,seq_len,p_be,p_bu,in_bits,coef_bits,out_bits,layers,"
          "fft_pass1_cycles,fft_pass2_cycles,bfly_expand_cycles,bfly_contract_cycles,"
          "layer_cycles,latency_ms")
    for board, version, seq, pbe, pbu, benchmark in rows():
        fpga, mem, in_bw, coef_bw, out_bw = BOARDS[board]
        layers, hidden, ffn = VERSIONS[version]
        with contextlib.redirect_stdout(io.StringIO()):
            d = Butterfly_Accelerator(HEAD_DIM, hidden, seq, ffn, parallesm_bu=pbu,
                                      parallesm_be=pbe, indata_dram_bw=in_bw,
                                      coef_dram_bw=coef_bw, outdata_dram_bw=out_bw)
            parts = [d.run_fft(complex_input=False, complex_output=True),
                     d.run_fft(complex_input=True, complex_output=False),
                     d.run_bfly(d.num_len, d.hidden_dim, d.ffn_inner_dim),
                     d.run_bfly(d.num_len, d.ffn_inner_dim, d.hidden_dim)]
        latency = layers * d.run_cycles * ((1.0 / FREQUENCY_MHZ / 1000) / EFFICIENCY)
        if benchmark:
            out = subprocess.run(
                [sys.executable, "simulator_bfly.py", "--num_len", str(seq), "--version", version,
                 "--fpga_board", fpga, "--offchip_mem", mem, "--parallesm_be", str(pbe)],
                cwd=sim_dir, capture_output=True, text=True, check=True).stdout
            printed = float(re.search(r"The overall latecy is: (\S+)", out).group(1))
            assert printed == latency, (board, version, seq, printed, latency)
        cycles = ",".join(number(c) for c in parts)
        print(f"{board},{version},{seq},{pbe},{pbu},{in_bw},{coef_bw},{out_bw},{layers},"
              f"{cycles},{number(d.run_cycles)},{latency!r}")


if __name__ == "__main__":
    main()
