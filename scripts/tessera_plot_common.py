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

# Units as the metric table writes them (sim/metrics.hpp; a results log's header carries the
# table): unit -> (unit shown, size of one raw unit in it, prefixes to choose from).
_TIME, _ENERGY = ["n", "µ", "m", ""], ["p", "n", "µ", "m", ""]
_COUNT = ["", "k", "M", "G"]
_UNITS = {
    "s": ("s", 1.0, _TIME),
    "pJ": ("J", 1e-12, _ENERGY),
    "pJ·s": ("J·s", 1e-12, _ENERGY),
    "W": ("W", 1.0, _ENERGY),
    "cycle": ("", 1.0, _COUNT),
    "MAC": ("", 1.0, _COUNT),
    "MAC/s": ("MAC/s", 1.0, _COUNT + ["T"]),
    "1": ("%", 100.0, [""]),
    "mm²": ("mm²", 1.0, [""]),
}
# Without a table (reports, older logs) the unit follows from the name's suffix, as every
# metric name carries it.
_SUFFIXES = [("_macs_per_s", "MAC/s"), ("_pj_s", "pJ·s"), ("_pj", "pJ"), ("_mm2", "mm²"), ("_w", "W"),
             ("_s", "s")]
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


def describe(metric, table=None):
    """(axis name, table unit) of a metric: from the log header's metric table when it has the
    metric, else from the name."""
    entry = (table or {}).get(metric)
    if isinstance(entry, dict) and isinstance(entry.get("unit"), str):
        return entry.get("description") or metric, entry["unit"]
    for suffix, u in _SUFFIXES:
        if metric.endswith(suffix):
            return metric[: -len(suffix)].replace("_", " "), u
    for ending, u in (("cycles", "cycle"), ("macs", "MAC"), ("utilization", "1")):
        if metric.endswith(ending):
            return metric.replace("_", " "), u
    return metric, None


def unit(metric, values, table=None):
    """(factor, label): multiply raw values by factor; the prefix is chosen by the largest value."""
    name, table_unit = describe(metric, table)
    base_unit, size, prefixes = _UNITS.get(table_unit, (table_unit or "", 1.0, [""]))
    biggest = max((abs(v) for v in values), default=0.0) * size
    chosen = prefixes[0]
    for p in prefixes:
        if biggest >= 10.0 ** _EXP[p]:
            chosen = p
    factor = size * 10.0 ** -_EXP[chosen]
    if base_unit:
        return factor, f"{name} ({chosen}{base_unit})"
    return factor, f"{name} ({_TIMES[chosen]})" if chosen else name


def log_metrics(path):
    """The metric table of a results log's header ({} for logs without one)."""
    with open(path, encoding="utf-8") as f:
        first = f.readline()
    try:
        head = json.loads(first)
    except json.JSONDecodeError:
        return {}
    metrics = head.get("header", {}).get("metrics") if isinstance(head, dict) else None
    return metrics if isinstance(metrics, dict) else {}


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
