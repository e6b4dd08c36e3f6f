"""Python's side of the bench workload "safetensors-header" (safetensors_header.cpp):
the same file (K metadata keys "key.000000" -> "value 0", ..., one F32 tensor
"w" = [0, 1, 2, 3]), the same protocol (one warm-up read, then 10 to 30 reads for
short ones, as timing.h's timed_repetitions), printed as rows of build/bench's CSV
format with the variant "python-safetensors":

    python3 examples/bench/safetensors_header.py [--keys 1000,10000,80000] > python.csv

Needs the `safetensors` and `numpy` packages (pip install safetensors numpy).
"""
import argparse
import os
import sys
import tempfile
import time

import numpy as np
import safetensors
from safetensors import safe_open
from safetensors.numpy import save_file


def timed_repetitions(t_w):
    if t_w < 0.1:
        return min(30, max(10, int(2.0 / t_w)))
    if t_w < 0.5:
        return 10
    if t_w < 10:
        return min(10, max(3, int(10.0 / t_w)))
    return 1


def read_metadata(path):
    with safe_open(path, "numpy") as f:
        return f.metadata()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", default="1000,10000,80000")
    args = parser.parse_args()
    print("workload,variant,n,threads,metric,value,unit")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "header.safetensors")
        for n in args.keys.split(","):
            keys = int(n)
            meta = {"key.%06d" % i: "value %d" % i for i in range(keys)}
            save_file({"w": np.arange(4, dtype=np.float32)}, path, metadata=meta)
            t0 = time.perf_counter()
            assert len(read_metadata(path)) == keys
            warm = time.perf_counter() - t0
            ms = []
            for _ in range(timed_repetitions(warm)):
                t0 = time.perf_counter()
                read_metadata(path)
                ms.append((time.perf_counter() - t0) * 1e3)
            ms.sort()
            v = "python-safetensors-" + safetensors.__version__
            for metric, value in (("ms_read_metadata", ms[len(ms) // 2]), ("ms_read_metadata_best", ms[0])):
                print("safetensors-header,%s,%s,1,%s,%.6g,ms" % (v, n, metric, value))
    return 0


if __name__ == "__main__":
    sys.exit(main())
