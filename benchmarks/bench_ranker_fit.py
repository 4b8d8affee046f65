"""Peak memory of the ranker's fit on training weeks of the full scale's size: the weeks handed to the fit already
in order (today) against the fit sorting its own copy while the stage holds the unsorted weeks (before).

    python -m benchmarks.bench_ranker_fit [--rows 11000000] [--features 73] [--trees 3]

Each way runs in a child process on the same synthetic frame: weeks of 40,000 buyers with 34 candidates each
(random ids of 1.37M customers and 105k articles; at least one purchase per buyer), float32 features. The
fit is LightGBM's with the default ranker settings and a few trees: the peak is in building its dataset.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import numpy as np
import polars as pl

from benchmarks.measure import machine, machine_line, peak_rss_mib

BUYERS, CANDIDATES, CUSTOMERS, ARTICLES = 40_000, 34, 1_371_980, 105_542


def weeks(rows: int, features: int, seed: int = 0) -> list[pl.DataFrame]:
    """Labelled weeks as the stage's labelled_week gives them (each sorted by customer and article)."""
    rng = np.random.default_rng(seed)
    per_week = BUYERS * CANDIDATES
    out = []
    for _ in range(max(1, round(rows / per_week))):
        customers = np.repeat(np.sort(rng.choice(CUSTOMERS, BUYERS, replace=False)), CANDIDATES)
        articles = rng.integers(0, ARTICLES, per_week)
        label = (rng.random(per_week) < 0.03) | (np.arange(per_week) % CANDIDATES == 0)
        columns = {f"f{j}": rng.random(per_week, dtype=np.float32) for j in range(features)}
        out.append(pl.DataFrame({"customer": customers.astype(np.int32), "article_id": articles.astype(np.int32),
                                 "label": label.astype(np.int8), **columns}).unique(["customer", "article_id"])
                   .sort("customer", "article_id"))
    return out


def child(way: str, rows: int, features: int, trees: int) -> dict[str, float]:
    """One way's figures: rows, peak RSS after building the weeks and after the fit, seconds of the fit."""
    from hm_lib.ranking import make_ranker
    from hm_lib.ranking.frames import with_positives
    from hm_lib.ranking.settings import RankerSettings

    frames = weeks(rows, features)
    train = pl.concat(frames, how="diagonal_relaxed")
    del frames
    built = peak_rss_mib()
    if way == "sorted_first":
        train = with_positives(train)
    start = time.perf_counter()
    make_ranker(RankerSettings(n_estimators=trees)).fit(train)
    return {"rows": train.height, "built_mib": built, "peak_mib": peak_rss_mib(),
            "fit_s": round(time.perf_counter() - start, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=11_000_000)
    parser.add_argument("--features", type=int, default=73)
    parser.add_argument("--trees", type=int, default=3)
    parser.add_argument("--child", choices=("sorted_first", "fit_sorts"))
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.rows, args.features, args.trees)))
        return
    print(machine_line())
    figures = {}
    for way in ("fit_sorts", "sorted_first"):
        done = subprocess.run([sys.executable, "-m", "benchmarks.bench_ranker_fit", "--child", way, "--rows",
                               str(args.rows), "--features", str(args.features), "--trees", str(args.trees)],
                              check=True, capture_output=True, text=True)
        figures[way] = json.loads(done.stdout.strip().splitlines()[-1])
    print("| way | rows | peak RSS with the weeks built (GiB) | peak RSS of the fit (GiB) | fit seconds |")
    print("|---|---:|---:|---:|---:|")
    for way, f in figures.items():
        print(f"| {way} | {f['rows']:,} | {f['built_mib'] / 1024:.1f} | {f['peak_mib'] / 1024:.1f} | {f['fit_s']} |")
    print(json.dumps({"machine": machine(), "figures": figures}))


if __name__ == "__main__":
    main()
