"""Converts the PyTorch anchors' result files (../shared/bench: attention.py's and
train_step.py's results/*.json) to build/bench's long CSV format, with the variant
named "torch-<name>", so that both sides sit in one table or one plot:

    python3 examples/bench/torch_csv.py RESULTS.json [...] > torch.csv
    build/bench attention --replot ours.csv,torch.csv --plot PREFIX

Metrics and units are the bench's own (attention: ms_fwd_bwd, ms_fwd and their _best,
reps, peak_rss_mib, base_rss_mib, delta_rss_mib, cpu_user_s, cpu_sys_s, steal_pct;
train-step: tokens_per_s(_best), step_s(_best), fwd_s, bwd_s, opt_s, gflops, params,
params_matmul, steps, cpu_user_s, cpu_sys_s, steal_pct). Skipped cases have no numbers
and are left out. Standard library only; any Python 3.
"""
import json
import sys

MIB = 1 / 2 ** 20


def attention_rows(row):
    if "skipped" in row:
        return []
    v, n, t = "torch-" + row["variant"], row["n"], row["threads"]
    out = [
        (v, n, t, "ms_fwd_bwd", 1e3 * row["fwd_bwd_median_s"], "ms"),
        (v, n, t, "ms_fwd_bwd_best", 1e3 * row["fwd_bwd_min_s"], "ms"),
        (v, n, t, "ms_fwd", 1e3 * row["fwd_median_s"], "ms"),
        (v, n, t, "ms_fwd_best", 1e3 * row["fwd_min_s"], "ms"),
        (v, n, t, "reps", row["reps"], "count"),
        (v, n, t, "peak_rss_mib", row["peak_rss_bytes"] * MIB, "MiB"),
        (v, n, t, "base_rss_mib", row["rss_after_inputs_bytes"] * MIB, "MiB"),
        (v, n, t, "delta_rss_mib", (row["peak_rss_bytes"] - row["rss_after_inputs_bytes"]) * MIB, "MiB"),
        (v, n, t, "cpu_user_s", row["cpu_user_s_per_iter"], "s/iter"),
        (v, n, t, "cpu_sys_s", row["cpu_sys_s_per_iter"], "s/iter"),
        (v, n, t, "steal_pct", 100 * row["steal_fraction"], "%"),
    ]
    return [("attention",) + r for r in out]


def train_rows(row):
    v, n, t = "torch-" + row["model"], "4x1024", row["threads"]
    out = [
        (v, n, t, "tokens_per_s", row["tokens_per_s_median"], "tokens/s"),
        (v, n, t, "tokens_per_s_best", row["tokens_per_s_best"], "tokens/s"),
        (v, n, t, "step_s", row["step_median_s"], "s"),
        (v, n, t, "step_s_best", row["step_min_s"], "s"),
        (v, n, t, "fwd_s", row["fwd_median_s"], "s"),
        (v, n, t, "bwd_s", row["bwd_median_s"], "s"),
        (v, n, t, "opt_s", row["opt_median_s"], "s"),
        (v, n, t, "gflops", row["achieved_gflops"], "GFLOP/s"),
        (v, n, t, "params", row["params_total"], "count"),
        (v, n, t, "params_matmul", row["params_matmul"], "count"),
        (v, n, t, "steps", row["warmup"] + row["timed"], "count"),
        (v, n, t, "cpu_user_s", row["cpu_user_s_per_step"], "s/step"),
        (v, n, t, "cpu_sys_s", row["cpu_sys_s_per_step"], "s/step"),
        (v, n, t, "steal_pct", 100 * row["steal_fraction"], "%"),
    ]
    return [("train-step",) + r for r in out]


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    print("workload,variant,n,threads,metric,value,unit")
    for path in sys.argv[1:]:
        with open(path) as f:
            rows = json.load(f)["rows"]
        for row in rows:
            for r in attention_rows(row) if "variant" in row else train_rows(row):
                print(",".join(str(x) if not isinstance(x, float) else f"{x:.6g}" for x in r))


if __name__ == "__main__":
    main()
