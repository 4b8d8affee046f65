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


def fake_world(n_customers: int, n_articles: int, seed: int) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Customers, articles and predictions: 0..12 random (skewed, possibly repeated) articles each."""
    rng = np.random.default_rng(seed)
    customers = pl.DataFrame({CUSTOMER: np.arange(n_customers, dtype=np.int32), "customer_id": hex_ids(rng, n_customers)})
    article_ids = np.sort(rng.choice(np.arange(108_775_015, 959_461_001), n_articles, replace=False)).astype(np.int32)
    articles = pl.DataFrame({ARTICLE: article_ids})
    counts = rng.integers(0, K + 1, n_customers)
    owner = np.repeat(np.arange(n_customers, dtype=np.int32), counts)
    pick = np.minimum(rng.zipf(1.3, owner.size), n_articles) - 1
    rank = np.arange(owner.size) - np.repeat(np.cumsum(counts) - counts, counts) + 1
    predictions = pl.DataFrame({CUSTOMER: owner, ARTICLE: article_ids[pick], RANK: rank.astype(np.int32)})
    return customers, articles, predictions


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_371_980)
    parser.add_argument("--articles", type=int, default=105_542)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    seconds, (customers, articles, predictions) = timed(lambda: fake_world(args.customers, args.articles, args.seed))
    fill = articles[ARTICLE][:K].to_list()
    rows = [("make fake data", seconds)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "submission.csv"
        rows.append(("write csv + csv.gz", timed(lambda: write_submission(predictions, customers, articles, path, fill))[0]))
        rows.append(("validate csv", timed(lambda: validate_submission(path, customers, articles))[0]))
        rows.append(("validate csv.gz", timed(lambda: validate_submission(gz_path(path), customers, articles))[0]))
        sizes = f"{path.stat().st_size / 2**20:.0f} MiB csv, {gz_path(path).stat().st_size / 2**20:.0f} MiB gz"
    total = sum(s for name, s in rows[1:3])
    print(f"{args.customers:,} customers, {args.articles:,} articles, {predictions.height:,} prediction rows; {sizes}\n")
    print("| step | seconds |\n|---|---:|")
    for name, s in rows:
        print(f"| {name} | {s:.1f} |")
    print(f"| **write + validate csv** | **{total:.1f}** |")


if __name__ == "__main__":
    main()
