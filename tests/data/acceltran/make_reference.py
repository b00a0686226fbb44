#!/usr/bin/env python3
"""AccelTran's simulator (jha-lab/acceltran, simulator/) on BERT-Tiny across activation sparsity.

For each activation sparsity s, with the artefact's own inputs (model_dicts/bert_tiny.json,
config/config_tiny.yaml, constants/constants.yaml with sparsity.activation = s):
  - total: the cycles of the artefact's fast simulation (src/simulator.py: simulate_fast, as
    `run_simulator.py --fast` runs it), memory loads and compute summed in sequence;
  - per matrix product (the op list of its dict2ops):
      fast_cycles  the fast model's MAC-lane cycles, ceil(tiled ops x multiplies per tiled op /
                   MACs x (1 - s)), tiled ops and multiplies from its tile_ops_fast (which counts
                   the reduction's tiles twice: b·i·k·k·j tile products);
      tiles        the tiled ops of the cycle-accurate model (MatrixMultOp.tile_op(): b·i·j·k),
      lane_cycles  the cycles one MAC lane takes for one of them (MACLane.assign_op:
                   ceil(multiplies / MACs per lane x (1 - s))).
The artefact is imported, not copied. It needs PyYAML, numpy and matplotlib; its progress bars
(tqdm) are not needed: --no-tqdm puts a stand-in that draws nothing on the path.

    /usr/bin/python3 tests/data/acceltran/make_reference.py --artefact PATH/TO/acceltran \
        --out tests/data/acceltran/bert_tiny.csv [--no-tqdm]
"""
import argparse
import copy
import csv
import io
import math
import os
import sys
import tempfile
import types
import contextlib


def tqdm_stand_in():
    class Bar:
        def __init__(self, iterable=None, *args, total=None, **kwargs):
            self.iterable, self.n = iterable, 0

        def __iter__(self):
            return iter(self.iterable)

        def update(self, k=1):
            self.n += k

        def set_description(self, *a, **k):
            pass

        def close(self):
            pass

        @staticmethod
        def write(s, *a, **k):
            pass

    module = types.ModuleType('tqdm')
    module.tqdm = Bar
    sys.modules['tqdm'] = module


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--artefact', required=True, help='checkout of jha-lab/acceltran')
    ap.add_argument('--out', required=True)
    ap.add_argument('--no-tqdm', action='store_true')
    args = ap.parse_args()
    if args.no_tqdm:
        tqdm_stand_in()
    sim_dir = os.path.join(os.path.abspath(args.artefact), 'simulator')
    sys.path.insert(0, os.path.join(sim_dir, 'src'))
    os.environ.setdefault('MPLBACKEND', 'Agg')
    import json
    import yaml
    import simulator as at_sim  # the artefact's src/simulator.py
    from dict2ops import main as dict2ops
    from ops import MatrixMultOp
    from modules import MACLane

    model = json.load(open(os.path.join(sim_dir, 'model_dicts', 'bert_tiny.json')))
    config = yaml.safe_load(open(os.path.join(sim_dir, 'config', 'config_tiny.yaml')))
    constants0 = yaml.safe_load(open(os.path.join(sim_dir, 'constants', 'constants.yaml')))
    design_space = yaml.safe_load(open(os.path.join(sim_dir, 'design_space', 'design_space.yaml')))
    num_macs = config['pe'] * config['lanes_per_pe'] * config['mac_per_lane']

    rows = []
    for tenth in range(0, 10):
        s = tenth / 10
        constants = copy.deepcopy(constants0)
        constants['sparsity']['activation'] = s
        with tempfile.TemporaryDirectory() as logs, contextlib.redirect_stdout(io.StringIO()):
            os.makedirs(os.path.join(logs, 'metrics'))
            os.makedirs(os.path.join(logs, 'utilization'))
            total = at_sim.simulate_fast(model, config, constants, design_space, logs, 1000,
                                         'inference', False, False, False)['cycles']
            _, compute_ops, _ = dict2ops(model, config, mode='inference')
        flat = []
        for op in compute_ops:
            if isinstance(op, list):
                for head in op:
                    flat.extend(head)
            else:
                flat.append(op)
        lane = MACLane('lane', config, constants)
        for op in flat:
            if not isinstance(op, MatrixMultOp):
                continue
            tiled, muls = at_sim.tile_ops_fast(op, config)
            fast = math.ceil(tiled * muls * 1.0 / num_macs * (1 - s))
            tiles = op.tile_op()
            lane.assign_op(tiles[0])  # every tile of a product has the same size
            rows.append(['matmul', op.op_name, s, list(op.input_1_size), list(op.input_2_size), fast,
                         len(tiles), lane.process_cycles])
        rows.append(['total', 'bert_tiny', s, '', '', total, '', ''])

    with open(args.out, 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['kind', 'name', 'activation_sparsity', 'input_1', 'input_2', 'fast_cycles',
                    'tiles', 'lane_cycles'])
        for r in rows:
            w.writerow([r[0], r[1], f'{r[2]:.1f}', ' '.join(map(str, r[3])) if r[3] else '',
                        ' '.join(map(str, r[4])) if r[4] else '', r[5], r[6], r[7]])


if __name__ == '__main__':
    main()
