"""Shared helpers of the plot_*.py scripts: input reading with clear errors, units, output."""
import json
import os
import sys

try:
    import matplotlib
except ImportError:
    sys.exit(f"error: {sys.executable} has no matplotlib: install python3-matplotlib (scripts/setup.sh) "
             "and run the script with /usr/bin/python3")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)

LOG_NAME, LOG_VERSIONS = "tessera.results", (1, 2)  # 2: a header line first

# metric -> (axis name, unit, size of one raw unit in the unit, prefixes to choose from)
_TIME, _ENERGY = ["n", "µ", "m", ""], ["p", "n", "µ", "m", ""]
_COUNT = ["", "k", "M", "G"]
METRICS = {
    "latency_s": ("latency", "s", 1.0, _TIME),
    "energy_pj": ("energy", "J", 1e-12, _ENERGY),
    "edp_pj_s": ("energy-delay product", "J·s", 1e-12, _ENERGY),
    "cycles": ("cycles", "", 1.0, _COUNT),
    "macs": ("multiply-accumulates", "", 1.0, _COUNT),
    "throughput_macs_per_s": ("throughput", "MAC/s", 1.0, _COUNT + ["T"]),
    "utilization": ("utilization", "%", 100.0, [""]),
    "area_mm2": ("area", "mm²", 1.0, [""]),
}
_TIMES = {"k": "×10³", "M": "×10⁶", "G": "×10⁹"}
_EXP = {"p": -12, "n": -9, "µ": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12}


class InputError(Exception):
    pass


def main_wrapper(main):
    """Runs main(); an InputError or unreadable file ends with one line on stderr and status 1."""
    try:
        main()
    except InputError as e:
        sys.exit(f"error: {e}")
    except OSError as e:
        sys.exit(f"error: {e.filename}: {e.strerror}")


def unit(metric, values):
    """(factor, label): multiply raw values by factor; the prefix is chosen by the largest value."""
    name, base_unit, size, prefixes = METRICS.get(metric, (metric, "", 1.0, [""]))
    biggest = max((abs(v) for v in values), default=0.0) * size
    chosen = prefixes[0]
    for p in prefixes:
        if biggest >= 10.0 ** _EXP[p]:
            chosen = p
    factor = size * 10.0 ** -_EXP[chosen]
    if base_unit:
        return factor, f"{name} ({chosen}{base_unit})"
    return factor, f"{name} ({_TIMES[chosen]})" if chosen else name


def read_json(path):
    with open(path, encoding="utf-8") as f:
        try:
            return json.load(f)
        except json.JSONDecodeError as e:
            raise InputError(f"{path}:{e.lineno}: not valid JSON: {e.msg} (column {e.colno})") from None


def read_log(path):
    """(ok entries, failed count) of a results log. Like `tessera`'s reader, a last line cut short
    by a kill (no newline, not JSON) is ignored; any other bad line names FILE:LINE."""
    if os.path.isdir(path):
        raise InputError(f"{path}: is a directory, not a results log")
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    ok, failed = [], 0
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as e:
            if number == len(lines):  # no newline after it: cut short
                break
            raise InputError(f"{where}: line {number} is not valid JSON: {e.msg}") from None
        if not isinstance(entry, dict) or entry.get("log") != LOG_NAME:
            raise InputError(f"{where}: line {number} is not a {LOG_NAME} entry")
        if entry.get("version") not in LOG_VERSIONS:
            raise InputError(f"{where}: unsupported log version {entry.get('version')!r}")
        if "header" in entry:  # which run wrote the log: no point
            continue
        if entry.get("status") == "failed":
            failed += 1
        elif entry.get("status") == "ok" and isinstance(entry.get("metrics"), dict):
            ok.append(entry)
        else:
            raise InputError(f"{where}: line {number} has no status ok with metrics, nor status failed")
    return ok, failed


def metric(entries, name, path):
    """Values of one metric over entries; an unknown name lists the known ones."""
    try:
        return [float(e["metrics"][name]) for e in entries]
    except KeyError:
        known = sorted({k for e in entries for k in e["metrics"]})
        raise InputError(f"{path}: no metric {name!r} (metrics: {', '.join(known)})") from None


def parse_objectives(spec):
    """'a:min,b:max' -> [('a', 'min'), ('b', 'max')]."""
    result = []
    for item in spec.split(","):
        name, _, sense = item.strip().partition(":")
        if not name or sense not in ("min", "max"):
            raise InputError(f"--objectives {spec}: expected metric:min or metric:max, got {item!r}")
        result.append((name, sense))
    return result


def add_out_argument(parser):
    parser.add_argument("--out", required=True, metavar="PREFIX", help="write PREFIX.png and PREFIX.svg")


def save(fig, prefix):
    """Writes PREFIX.png and PREFIX.svg and prints their names."""
    if os.path.dirname(prefix):
        os.makedirs(os.path.dirname(prefix), exist_ok=True)
    for ext in ("png", "svg"):
        fig.savefig(f"{prefix}.{ext}", dpi=150, bbox_inches="tight")
        print(f"{prefix}.{ext}")
    plt.close(fig)
