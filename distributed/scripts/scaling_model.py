#!/usr/bin/env python3
"""distributed/scripts/scaling_model.py — the scaling model of distributed/README.md:
the step time of P data-parallel ranks on paper, from the measured compute time of
one rank, the benchmark model's gradients, and a stated network.

A ring all-reduce of a bucket of b bytes over P ranks sends and receives
2 (P - 1) / P x b bytes per rank in 2 (P - 1) steps:

    T_bucket(b) = 2 (P - 1) / P x b / B  +  2 (P - 1) x alpha

(B: bandwidth per rank, alpha: latency of one step). The buckets are the ones
GradientReducer makes (distributed/buckets.cpp: parameters in reverse order, cut
at parameter boundaries, a parameter larger than the bucket alone) for the
benchmark's model (examples/bench/data_parallel.cpp: 4 blocks, d_model 256, FFN
1024, vocabulary 256, 1024 positions, untied head without bias). Backward produces
the gradients in reverse parameter order at an even rate over T_bwd seconds, so a
bucket is ready when the share of elements up to its end is done; the buckets
travel one after another, each as soon as it is ready and the one before has
arrived. What is left after backward ends is the communication not overlapped:

    exposed = (time the last bucket arrives) - T_bwd

A step takes T_c + exposed, where T_c is one rank's compute (forward, backward,
optimizer), and P ranks process P x 4096 tokens per step.

    python3 distributed/scripts/scaling_model.py T_C_S T_BWD_S
"""
import sys

t_c, t_bwd = (float(x) for x in sys.argv[1:3])
TOKENS_PER_RANK = 4096
D, FFN, VOCAB, LEN, BLOCKS = 256, 1024, 256, 1024, 4


def linear(out_features, in_features, bias=True):
    return [out_features * in_features] + ([out_features] if bias else [])


# Element counts in registration order (TransformerLM: tokens, positions, blocks, final norm, head).
params = [VOCAB * D, LEN * D]
for _ in range(BLOCKS):
    params += [D, D] + linear(3 * D, D) + linear(D, D) + [D, D] + linear(FFN, D) + linear(D, FFN)
params += [D, D] + linear(VOCAB, D, bias=False)
S = 4 * sum(params)


def bucket_sizes(cap_bytes):
    """distributed/buckets.cpp's plan: bytes per bucket, in the order they are sent."""
    cap = max(1, int(cap_bytes / 4))
    buckets, filled = [], 0
    for n in reversed(params):
        if not buckets or (filled > 0 and filled + n > cap):
            buckets.append(0)
            filled = 0
        buckets[-1] += 4 * n
        filled += n
    return buckets


def ring(P, B, alpha, size):
    return 2 * (P - 1) / P * size / B + 2 * (P - 1) * alpha


def exposed(P, B, alpha, cap_bytes):
    done, produced = 0.0, 0
    for size in bucket_sizes(cap_bytes):
        produced += size
        done = max(done, t_bwd * produced / S) + ring(P, B, alpha, size)
    return done - t_bwd


networks = [("10 Gb/s Ethernet", 1.25e9, 20e-6), ("100 Gb/s InfiniBand", 12.5e9, 2e-6)]
caps_mb = [0.25, 0.5, 1, 2, 4, 8, 25]
print(f"T_c = {t_c} s per step and rank, of which backward {t_bwd} s; gradients S = {S / 1e6:.2f} MB in "
      f"{len(bucket_sizes(25e6))} bucket at 25 MB, {len(bucket_sizes(1e6))} at 1 MB; networks: Ethernet B = 1.25 GB/s, "
      "alpha = 20 us; InfiniBand B = 12.5 GB/s, alpha = 2 us\n")
print(f"| ranks P | network | all-reduce of S: bandwidth part | latency part, 25 MB (1 bucket) | latency part, 1 MB "
      f"({len(bucket_sizes(1e6))} buckets) | exposed, 25 MB | exposed, 1 MB | best bucket (exposed) | tokens/s, 25 MB "
      f"(ideal: P x {TOKENS_PER_RANK / t_c:,.0f}) | efficiency, 25 MB | efficiency, best bucket |")
print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for P in (8, 64, 512):
    for name, B, alpha in networks:
        best = min(caps_mb, key=lambda mb: exposed(P, B, alpha, mb * 1e6))
        e25, e1, eb = (exposed(P, B, alpha, mb * 1e6) for mb in (25, 1, best))
        lat1 = len(bucket_sizes(1e6)) * 2 * (P - 1) * alpha
        print(f"| {P} | {name} | {2 * (P - 1) / P * S / B * 1e3:.1f} ms | {2 * (P - 1) * alpha * 1e3:.2f} ms "
              f"| {lat1 * 1e3:.1f} ms | {e25 * 1e3:.1f} ms | {e1 * 1e3:.1f} ms | {best:g} MB ({eb * 1e3:.1f} ms) "
              f"| {P * TOKENS_PER_RANK / (t_c + e25):,.0f} ({P * TOKENS_PER_RANK / t_c:,.0f}) "
              f"| {100 * t_c / (t_c + e25):.1f}% | {100 * t_c / (t_c + eb):.1f}% |")
