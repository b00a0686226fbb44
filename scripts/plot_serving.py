#!/usr/bin/python3
"""Plot a `tessera serve --out R.json --requests` report: the latency CDF per stream (with each
stream's SLO as a dashed line) and a timeline of requests waiting per stream with the requests
done per time bin.

  scripts/plot_serving.py REPORT.json --out PREFIX
"""
import argparse

import tessera_plot_common as common
from tessera_plot_common import InputError, plt


def read_report(path):
    doc = common.read_json(path)
    if not isinstance(doc, dict) or doc.get("format") != "tessera.serving_report":
        raise InputError(f"{path}: not a Tessera serving report (tessera serve --out)")
    req = doc.get("requests")
    if not isinstance(req, dict) or not all(k in req for k in ("stream", "arrival_s", "end_s")):
        raise InputError(f"{path}: has no per-request times: write it with tessera serve --out R.json --requests")
    return doc


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("report")
    common.add_out_argument(parser)
    args = parser.parse_args()
    doc = read_report(args.report)
    names = list(doc["streams"].keys())
    req = doc["requests"]
    fig, (cdf, timeline) = plt.subplots(1, 2, figsize=(13, 4.8))
    for i, name in enumerate(names):
        lat = sorted(e - a for s, a, e in zip(req["stream"], req["arrival_s"], req["end_s"]) if s == i)
        if not lat:
            continue
        color = plt.cm.tab10.colors[i % 10]
        n = len(lat)
        cdf.step([v * 1e3 for v in lat], [(k + 1) / n for k in range(n)], where="post", color=color,
                 label=f"{name} (p99 {doc['streams'][name]['p99_latency_s'] * 1e3:.3g} ms)")
        slo = doc["streams"][name].get("slo_s")
        if slo:
            cdf.axvline(slo * 1e3, color=color, linestyle="--", linewidth=1)
    cdf.set_xscale("log")
    cdf.set_xlabel("latency (ms, log scale); dashed: SLO")
    cdf.set_ylabel("fraction of requests")
    cdf.set_title("latency CDF per stream")
    cdf.legend(fontsize=8)
    t = [v for v in doc["queue_timeline"]["t_s"]]
    for i, name in enumerate(names):
        timeline.plot(t, doc["streams"][name]["queue"], color=plt.cm.tab10.colors[i % 10], label=f"{name} waiting")
    timeline.set_xlabel("time (s)")
    timeline.set_ylabel("requests waiting")
    done = timeline.twinx()
    span = doc["summary"].get("span_s", 0) or 1
    bins = 50
    counts = [0] * bins
    for e in req["end_s"]:
        counts[min(bins - 1, int(e / span * bins))] += 1
    width = span / bins
    done.bar([(k + 0.5) * width for k in range(bins)], [c / width for c in counts], width=width,
             color="tab:gray", alpha=0.25, label="done per s")
    done.set_ylabel("requests done per second")
    lines, labels = timeline.get_legend_handles_labels()
    l2, lab2 = done.get_legend_handles_labels()
    timeline.legend(lines + l2, labels + lab2, fontsize=8, loc="upper right")
    s = doc["scenario"]
    timeline.set_title("queue timeline")
    fig.suptitle(f"{s['name']}: policy {s['policy']}, batching {s['batching']['mode']}, "
                 f"preemption {s['preemption']}, {doc['summary']['requests']} requests", fontsize=11)
    fig.tight_layout()
    common.save(fig, args.out)


if __name__ == "__main__":
    common.main_wrapper(main)
