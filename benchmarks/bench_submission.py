"""Time write_submission + validate_submission on a full-size fake world (1.37M customers, 105k articles).

Run: .venv/bin/python -m benchmarks.bench_submission [--customers N] [--articles N] [--seed S]
Prints a markdown table of seconds per step.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from hm_lib.schema import ARTICLE, CUSTOMER, HEX_ID_LENGTH, RANK, K
from hm_lib.submission import gz_path, validate_submission, write_submission

HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def hex_ids(rng: np.random.Generator, n: int) -> pl.Series:
    """``n`` random lowercase 64-hex strings."""
    raw = rng.integers(0, 256, size=(n, HEX_ID_LENGTH // 2), dtype=np.uint8)
    chars = np.stack([HEX[raw >> 4], HEX[raw & 15]], axis=2).reshape(n, HEX_ID_LENGTH)
    return pl.Series("customer_id", chars.view(f"S{HEX_ID_LENGTH}").ravel()).cast(pl.Utf8)


def fake_world(n_customers: int, n_articles: int, seed: int) -> tuple[pl.DataFrame, ...]:
    """Customers, articles and predictions: 0..12 skewed, possibly repeated articles per customer."""
    rng = np.random.default_rng(seed)
    customers = pl.DataFrame({CUSTOMER: np.arange(n_customers, dtype=np.int32),
                              "customer_id": hex_ids(rng, n_customers)})
    ids = np.sort(rng.choice(850_000_000, n_articles, replace=False) + 108_775_015).astype(np.int32)
    counts = rng.integers(0, K + 1, n_customers)
    owner = np.repeat(np.arange(n_customers, dtype=np.int32), counts)
    rank = np.arange(owner.size) - np.repeat(np.cumsum(counts) - counts, counts) + 1
    pick = np.minimum(rng.zipf(1.3, owner.size), n_articles) - 1
    predictions = pl.DataFrame({CUSTOMER: owner, ARTICLE: ids[pick], RANK: rank.astype(np.int32)})
    return customers, pl.DataFrame({ARTICLE: ids}), predictions


def timed(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> float:
    """Seconds taken by ``fn(*args, **kwargs)``."""
    start = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_371_980)
    parser.add_argument("--articles", type=int, default=105_542)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    start = time.perf_counter()
    customers, articles, predictions = fake_world(args.customers, args.articles, args.seed)
    rows = [("make fake data", time.perf_counter() - start)]
    fill = articles[ARTICLE][:K].to_list()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "submission.csv"
        rows += [
            ("write csv + csv.gz", timed(write_submission, predictions, customers, articles, path, fill)),
            ("validate csv", timed(validate_submission, path, customers, articles)),
            ("validate csv.gz", timed(validate_submission, gz_path(path), customers, articles)),
        ]
        mib = [p.stat().st_size / 2**20 for p in (path, gz_path(path))]
    sizes = f"{mib[0]:.0f} MiB csv, {mib[1]:.0f} MiB gz"
    print(f"{args.customers:,} customers, {args.articles:,} articles, "
          f"{predictions.height:,} prediction rows (0..{K} per customer, filled up); {sizes}\n")
    print("| step | seconds |\n|---|---:|")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.1f} |")
    print(f"| **write + validate csv** | **{rows[1][1] + rows[2][1]:.1f}** |")


if __name__ == "__main__":
    main()
