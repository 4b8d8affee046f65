"""How hard a synthetic world is, seed by seed: the baselines, the oracle and the difficulty figures.

    python -m benchmarks.bench_difficulty --scale default --seeds 42 5 7 99 101 [--knob stock_cap=0.006 ...]
    python -m benchmarks.bench_difficulty --scale full --seeds 42 --no-oracle

Generates each world without photos (into --work, removed afterwards unless --keep), computes
`hm_lib.world_figures` and the oracle's MAP@12 over the last week's buyers, and prints a Markdown
table per seed, the figures outside the real data's band, and the coefficient of variation across seeds.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import time
from pathlib import Path

import numpy as np
import polars as pl

from hm_lib.data import load
from hm_lib.synthetic import generate, oracle_last_week_map
from hm_lib.synthetic.knobs import Knobs
from hm_lib.world_figures import TOP_SHARE, compare, world_figures

COLUMNS = {
    "baseline (b)": "MAP@12 last week: own last purchases, then best-sellers",
    "baseline (a)": "MAP@12 last week: previous week's best-sellers",
    "top 0.1%": TOP_SHARE,
    "new arrivals": "last week's sold articles not sold in the 30 days before",
    "never sold": "articles never sold",
}


def knobs_from(scale: str, items: list[str]) -> Knobs:
    """The scale's knobs with NAME=VALUE changes (the value takes the knob's type)."""
    base = Knobs.for_scale(scale)
    values = {}
    for item in items:
        name, _, value = item.partition("=")
        if not hasattr(base, name):
            raise SystemExit(f"unknown knob {name!r}; known: {', '.join(f.name for f in dataclasses.fields(Knobs))}")
        values[name] = type(getattr(base, name))(value)
    return dataclasses.replace(base, **values)


def measure(root: Path, scale: str, seed: int, knobs: Knobs, oracle: bool) -> dict:
    t0 = time.perf_counter()
    generate(root / "raw", scale=scale, seed=seed, images=False, knobs=knobs, progress=False)
    ds = load(root / "raw", root / "processed")
    figures = world_figures(ds.transactions, ds.customers, ds.articles, None)
    table = compare(figures).filter(pl.col("within").is_not_null())
    row = {name: figures[key] for name, key in COLUMNS.items()}
    if oracle:
        row["oracle"] = oracle_last_week_map(root / "synthetic_truth", ds.transactions)
    row["within"] = f"{int(table['within'].sum())} of {table.height}"
    row["outside"] = [f"{n}: {v:.4g} (real {r:.4g})" for n, v, r in
                      table.filter(~pl.col("within")).select("figure", "value", "real").rows()]
    row["seconds"] = round(time.perf_counter() - t0, 1)
    return row


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scale", default="default", choices=("tiny", "small", "default", "full"))
    p.add_argument("--seeds", type=int, nargs="+", default=[42, 5, 7, 99, 101])
    p.add_argument("--knob", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("--no-oracle", action="store_true", help="skip the oracle (minutes at full scale)")
    p.add_argument("--work", type=Path, default=Path("/tmp/hm_bench_difficulty"))
    p.add_argument("--keep", action="store_true", help="keep the generated worlds")
    p.add_argument("--out", type=Path, default=None, help="also write the rows as JSON")
    args = p.parse_args()
    knobs = knobs_from(args.scale, args.knob)
    rows = {}
    names = [*COLUMNS, *([] if args.no_oracle else ["oracle"])]
    print(f"scale {args.scale}, knobs changed: {args.knob or 'none'}")
    print("| seed | " + " | ".join(names) + " | figures within 25% | seconds |")
    print("|---:|" + "---:|" * (len(names) + 2))
    for seed in args.seeds:
        root = args.work / f"{args.scale}_s{seed}"
        rows[seed] = measure(root, args.scale, seed, knobs, not args.no_oracle)
        r = rows[seed]
        print(f"| {seed} | " + " | ".join(f"{r[n]:.4f}" for n in names) + f" | {r['within']} | {r['seconds']} |",
              flush=True)
        if not args.keep:
            shutil.rmtree(root)
    for seed, r in rows.items():
        print(f"seed {seed} outside the band: " + "; ".join(r["outside"]))
    if len(rows) > 1:
        for n in names:
            v = np.array([r[n] for r in rows.values()])
            print(f"{n}: mean {v.mean():.4f}, coefficient of variation {v.std(ddof=1) / v.mean():.3f}")
    if args.out:
        args.out.write_text(json.dumps({"scale": args.scale, "knobs": args.knob, "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
