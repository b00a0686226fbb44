#!/usr/bin/env python3
"""Accuracy oracle for `command` (docs/explorer.md, "Accuracy oracles"): the relative accuracy of
a MoDeGPT-compressed model at the point's `workload.modegpt.ratio` (0 when the point has none),
interpolated linearly in a CSV table `ratio,accuracy` (the first argument). A ratio outside the
table fails the point: nothing is extrapolated. Standard library only.

Usage: modegpt_accuracy.py TABLE.csv < {"point": {...}, ...}
"""
import csv
import json
import sys


def fail(message):
    print(message, file=sys.stderr)
    sys.exit(1)


def main():
    if len(sys.argv) != 2:
        fail("usage: modegpt_accuracy.py TABLE.csv")
    rows = []
    with open(sys.argv[1], newline="") as f:
        for line, row in enumerate(csv.reader(f), 1):
            if not row or row[0].startswith("#") or row[0] == "ratio":
                continue
            try:
                rows.append((float(row[0]), float(row[1])))
            except (ValueError, IndexError):
                fail(f"{sys.argv[1]}:{line}: expected ratio,accuracy")
    rows.sort()
    if not rows:
        fail(f"{sys.argv[1]}: no rows")
    point = json.load(sys.stdin).get("point", {})
    ratio = float(point.get("workload.modegpt.ratio", 0))
    for (r0, a0), (r1, a1) in zip(rows, rows[1:]):
        if r0 <= ratio <= r1:
            print(a0 if r1 == r0 else a0 + (a1 - a0) * (ratio - r0) / (r1 - r0))
            return
    if len(rows) == 1 and rows[0][0] == ratio:
        print(rows[0][1])
        return
    fail(f"ratio {ratio} is outside the table's [{rows[0][0]}, {rows[-1][0]}]")


main()
