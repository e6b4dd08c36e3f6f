#!/usr/bin/env python3
"""distributed/scripts/summarize.py — the table of distributed/README.md from the
files measure.sh wrote: per configuration, the median over rounds of each
measure (each round's value is itself the median of its timed steps), tokens/s
from every round (min-max), and the machine's load and steal during the runs.

    python3 distributed/scripts/summarize.py results/distributed/DATE
"""
import csv
import glob
import os
import re
import statistics
import sys

folder = sys.argv[1]
rows = {}  # config label -> metric -> [values, one per round]
for path in sorted(glob.glob(os.path.join(folder, "round*.csv"))):
    with open(path) as f:
        for r in csv.DictReader(f):
            rows.setdefault(r["variant"], {}).setdefault(r["metric"], []).append(float(r["value"]))

# Load and steal from the "# start/end round R CONFIG ... uptime: a, b, c cpu: ..." lines.
loads, steal_share = [], []
start_cpu = {}
with open(os.path.join(folder, "measure.log")) as f:
    for line in f:
        m = re.match(r"# (start|end) round (\d+) (\S+) \S+ uptime: ([\d.]+), [\d.]+, [\d.]+ cpu: (.*)", line)
        if not m:
            continue
        kind, key, load, cpu = m.group(1), (m.group(2), m.group(3)), float(m.group(4)), [int(x) for x in m.group(5).split()]
        loads.append(load)
        if kind == "start":
            start_cpu[key] = cpu
        elif key in start_cpu:
            delta = [b - a for a, b in zip(start_cpu[key], cpu)]
            steal_share.append(delta[7] / max(1, sum(delta)))

order = ["1x1", "1x2"] + sorted(k for k in rows if k.startswith("2x1"))
med = statistics.median
print("| configuration | rounds | tokens/s, median of rounds (min-max) | step s | forward s | backward s "
      "| finish s (not overlapped) | of it: flags s | wait s | all-reduce alone s | rank 0 CPU s/step |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for label in order:
    m = rows.get(label)
    if not m:
        continue
    tps = m["tokens_per_s"]
    print(f"| {label} | {len(tps)} | {med(tps):,.0f} ({min(tps):,.0f}-{max(tps):,.0f}) | {med(m['step_s']):.3f} "
          f"| {med(m['fwd_s']):.3f} | {med(m['bwd_s']):.3f} | {med(m['finish_s']):.4f} | {med(m['flags_s']):.4f} "
          f"| {med(m['wait_s']):.4f} | {med(m['allreduce_s']):.4f} | {med(m['cpu_user_s']):.3f} |")
if loads:
    print(f"\nload average (1 min) at the starts and ends of the runs: {min(loads):.1f} to {max(loads):.1f}, "
          f"median {med(loads):.1f}; hypervisor steal {100 * max(steal_share):.2f}% of CPU time at most")
