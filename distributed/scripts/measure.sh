#!/bin/sh
# distributed/scripts/measure.sh — the data-parallel measurements of
# distributed/README.md: ROUNDS rounds of the benchmark's data-parallel workload,
# one configuration per invocation, in an order that alternates from round to round
# (the machine is shared: what runs beside us changes between runs). Before and
# after each invocation, the load (uptime) and the CPU counters of /proc/stat
# (user nice system idle iowait irq softirq steal), so that the share of the CPUs
# that others used during each run can be worked out.
#
#   make bench && sh distributed/scripts/measure.sh OUT_DIR [ROUNDS] [FIRST_ROUND]
#
# FIRST_ROUND (default 1) numbers the rounds on from an earlier call into the same folder.
set -eu
out=${1:?usage: measure.sh OUT_DIR [ROUNDS] [FIRST_ROUND]}
first=${3:-1}
last=$((first + ${2:-3} - 1))
mkdir -p "$out"
log="$out/measure.log"
echo "# rounds $first to $last, OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-(unset: OpenMP's default)}" >> "$log"
stamp() { echo "# $1 $(date -u +%FT%TZ) uptime:$(uptime | sed 's/.*load average://') cpu:$(head -1 /proc/stat | cut -c5-)" >> "$log"; }
i=$first
while [ "$i" -le "$last" ]; do
  if [ $((i % 2)) -eq 1 ]; then order="1x1 1x2 2x1"; else order="2x1 1x2 1x1"; fi
  for c in $order; do
    stamp "start round $i $c"
    build/bench data-parallel --configs "$c" --steps 5 --csv "$out/round${i}_$c.csv" >> "$log" 2>&1
    stamp "end round $i $c"
  done
  i=$((i + 1))
done
