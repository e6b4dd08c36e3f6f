#!/usr/bin/env python3
"""distributed/results/scaling_model.py — the scaling model of distributed/README.md:
the step time of P data-parallel ranks on paper, from the gradient size, the
measured compute time of one rank, and a stated network.

A ring all-reduce of a bucket of b bytes over P ranks sends and receives
2 (P - 1) / P x b bytes per rank in 2 (P - 1) steps:

    T_bucket(b) = 2 (P - 1) / P x b / B  +  2 (P - 1) x alpha

(B: bandwidth per rank, alpha: latency per step). Gradients of S bytes in n =
ceil(S / b) buckets. Backward produces them evenly over T_bwd seconds, so bucket i
is ready at T_bwd x i / n; the buckets travel one after another, each as soon as
it is ready and the one before is done. What is left after backward ends is the
communication not overlapped:

    exposed = (time the last bucket arrives) - T_bwd    (n = 1: all of T_bucket(S))

A step takes T_c + exposed, where T_c is one rank's compute (forward, backward,
optimizer), and P ranks process P x 4096 tokens per step.

    python3 distributed/results/scaling_model.py T_C_S T_BWD_S GRAD_MB
"""
import math
import sys

t_c, t_bwd, grad_mb = (float(x) for x in sys.argv[1:4])
S = grad_mb * 1e6
TOKENS_PER_RANK = 4096
networks = [("10 Gb/s Ethernet (B = 1.25 GB/s, alpha = 20 us)", 1.25e9, 20e-6),
            ("100 Gb/s InfiniBand (B = 12.5 GB/s, alpha = 2 us)", 12.5e9, 2e-6)]
buckets_mb = [0.25, 0.5, 1, 2, 4, 8, 14.3, 25]


def exposed(P, B, alpha, b):
    n = max(1, math.ceil(S / b))
    sizes = [min(b, S - i * b) for i in range(n)]
    done = 0.0
    for i, size in enumerate(sizes, start=1):
        ready = t_bwd * i / n
        done = max(done, ready) + 2 * (P - 1) / P * size / B + 2 * (P - 1) * alpha
    return max(0.0, done - t_bwd) if n > 1 else 2 * (P - 1) / P * S / B + 2 * (P - 1) * alpha


print(f"T_c = {t_c} s per step (one rank), of which backward {t_bwd} s; gradients S = {grad_mb} MB\n")
print("| ranks P | network | all-reduce of S, bandwidth part | latency part, 25 MB buckets (1) | latency part, 1 MB buckets "
      "(15) | exposed, 25 MB buckets | exposed, 1 MB | best bucket (exposed) | tokens/s, 25 MB buckets (ideal P x "
      f"{TOKENS_PER_RANK / t_c:,.0f}) | efficiency, 25 MB | efficiency, best |")
print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for P in (8, 64, 512):
    for name, B, alpha in networks:
        bw = 2 * (P - 1) / P * S / B
        lat25 = 2 * (P - 1) * alpha
        lat1 = math.ceil(S / 1e6) * 2 * (P - 1) * alpha
        e25 = exposed(P, B, alpha, 25e6)
        e1 = exposed(P, B, alpha, 1e6)
        best_mb = min(buckets_mb, key=lambda mb: exposed(P, B, alpha, mb * 1e6))
        ebest = exposed(P, B, alpha, best_mb * 1e6)
        ideal = P * TOKENS_PER_RANK / t_c
        print(f"| {P} | {name} | {bw * 1e3:.1f} ms | {lat25 * 1e3:.2f} ms | {lat1 * 1e3:.1f} ms | {e25 * 1e3:.1f} ms "
              f"| {e1 * 1e3:.1f} ms | {best_mb:g} MB ({ebest * 1e3:.1f} ms) | {P * TOKENS_PER_RANK / (t_c + e25):,.0f} "
              f"({ideal:,.0f}) | {100 * t_c / (t_c + e25):.1f}% | {100 * t_c / (t_c + ebest):.1f}% |")
