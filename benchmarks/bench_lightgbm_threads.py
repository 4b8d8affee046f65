"""LightGBM lambdarank on a small frame, one thread against two, on the machine as it is: run it alone,
then beside another job (a `hm run`, a test suite), to see what the other job's threads do to LightGBM's.

    python -m benchmarks.bench_lightgbm_threads [--rows 360] [--fits 8]

The frame is like the ranker contract tests' (customers with six candidates, a signal and a noise column).
"""
from __future__ import annotations

import argparse
import json
import time

import lightgbm as lgb
import numpy as np

from benchmarks.measure import machine, machine_line


def fits_seconds(rows: int, fits: int, threads: int) -> float:
    """Seconds for ``fits`` fits of 40 trees on ``rows`` rows with ``threads`` threads."""
    rng = np.random.default_rng(0)
    n = rows - rows % 6
    signal = rng.normal(size=n)
    x = np.column_stack([signal, rng.normal(size=n)]).astype(np.float32)
    y = (signal + 0.3 * rng.normal(size=n) > 1.0).astype(int)
    start = time.perf_counter()
    for _ in range(fits):
        lgb.LGBMRanker(objective="lambdarank", n_estimators=40, min_child_samples=5, deterministic=True,
                       force_row_wise=True, n_jobs=threads, verbose=-1).fit(x, y, group=[6] * (n // 6))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=360)
    parser.add_argument("--fits", type=int, default=8)
    args = parser.parse_args()
    figures = {threads: fits_seconds(args.rows, args.fits, threads) for threads in (1, 2)}
    print(machine_line())
    print(f"{args.fits} fits of 40 trees on {args.rows} rows\n\n| threads | seconds |\n|---:|---:|")
    for threads, seconds in figures.items():
        print(f"| {threads} | {seconds:.2f} |")
    print(json.dumps({"machine": machine(), "rows": args.rows, "fits": args.fits, "seconds": figures}))


if __name__ == "__main__":
    main()
