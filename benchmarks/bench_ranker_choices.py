"""The ranker's choices judged on the week before the validation target (never on the target): each choice is
fitted on the same labelled weeks and ranks the same buyers, so its difference from the default is paired.

    python -m benchmarks.bench_ranker_choices [--seeds 42 5 7] [--back 1]
        [--choice NAME:FIELD=VALUE,...] [--choice NAME:drop=COLUMN+COLUMN]

World S is ``/tmp/hm_quality_default_S`` (``benchmarks.bench_quality`` makes it; generated here if missing). The
judging cut-off is the validation cut-off minus ``--back`` weeks; the ranker learns from the labelled weeks before
it, without the image score (the relevance ensemble is trained for the validation cut-off only). A choice is ranker
settings (``early_stopping_rounds=100``, ``train_weeks=12``: the labelled weeks are built once, for the choice
with the most) or feature columns left out (``drop=week``: every customer's weeks in one
ranking group, as before the week groups). Prints Markdown tables for docs/benchmarks.md; figures to ``--out``.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import time
from pathlib import Path
from typing import Any

import polars as pl

from benchmarks.measure import machine, machine_line, world_with_photos

DEFAULT_CHOICES = ("merged_weeks:drop=week",
                   "patience_100:early_stopping_rounds=100,n_estimators=1000", "binary:objective=binary")


def parse_choice(text: str) -> tuple[str, dict[str, str], tuple[str, ...]]:
    """``NAME:FIELD=VALUE,...`` -> (name, ranker overrides, dropped columns)."""
    name, _, spec = text.partition(":")
    overrides, drop = {}, ()
    for item in filter(None, spec.split(",")):
        key, _, value = item.partition("=")
        if key == "drop":
            drop = tuple(value.split("+"))
        else:
            overrides[key] = value
    return name, overrides, drop


def judge_world(seed: int, back: int, choices: list[str]) -> dict[str, Any]:
    """MAP@12 of the default ranker and of each choice on world ``seed``, at the validation cut-off - back weeks."""
    from hm_lib import ranking
    from hm_lib.config import Config
    from hm_lib.cutoffs import cutoff_for
    from hm_lib.data import load
    from hm_lib.evaluation import score, week_customers
    from hm_lib.ranking.frames import WEEK
    from hm_lib.ranking.settings import RankerSettings

    world = Path(f"/tmp/hm_quality_default_{seed}")
    world_with_photos(world, "default", seed)
    cfg = Config(data_dir=world / "raw", work_dir=Path(f"/tmp/hm_choices_{seed}"), output_dir=Path(f"/tmp/hm_choices_{seed}/outputs"),
                 seed=seed, validate=True)
    ds = load(cfg.data_dir, cfg.processed_dir)
    cutoff = cutoff_for(cfg, ds) - dt.timedelta(days=7 * back)
    base = cfg.settings("ranker", RankerSettings)
    parsed = [(name, base.replace(**overrides), drop)
              for name, overrides, drop in [("default", {}, ()), *map(parse_choice, choices)]]
    most = max(settings.train_weeks for _, settings, _ in parsed)  # the labelled weeks are built once, for all
    start = time.perf_counter()
    train, valid = ranking.training_frames(cfg.replace(ranker__train_weeks=most), ds, cutoff)
    seconds = {"labelled weeks": time.perf_counter() - start}
    models = {}
    for name, settings, drop in parsed:
        rows = train.filter(pl.col(WEEK) >= min(settings.weeks(cutoff)))  # the choice's own training weeks
        start = time.perf_counter()
        models[name] = ranking.make_ranker(settings).fit(rows.drop(drop, strict=False), valid.drop(drop, strict=False))
        seconds[name] = time.perf_counter() - start
    preds = ranking.predict(cfg, ds, models, cutoff, None, week_customers(ds.transactions, cutoff))
    maps = {name: score(p, ds.transactions, cutoff)["map@12"] for name, p in preds.items()}
    return {"cutoff": str(cutoff), "map@12": maps, "trees": {n: m.summary()["trees"] for n, m in models.items()},
            "seconds": {k: round(v, 1) for k, v in seconds.items()}}


def tables(seeds: list[int], results: list[dict[str, Any]]) -> str:
    def row(label: str, values: list[float], spec: str) -> str:
        sd = statistics.stdev(values) if len(values) > 1 else 0.0
        return (f"| {label} | " + " | ".join(f"{v:{spec}}" for v in values)
                + f" | {statistics.fmean(values):{spec}} | {sd:.4f} |")

    names = list(results[0]["map@12"])
    head = "| {} | " + " | ".join(f"seed {s}" for s in seeds) + " | mean | sd |"
    rule = "|---|" + "---:|" * (len(seeds) + 2)
    lines = [head.format("MAP@12 (week before the target)"), rule,
             *(row(n, [r["map@12"][n] for r in results], ".4f") for n in names), "",
             head.format("choice - default (paired)"), rule,
             *(row(n, [r["map@12"][n] - r["map@12"]["default"] for r in results], "+.4f") for n in names[1:]), "",
             "trees: " + "; ".join(f"{n} " + "/".join(str(r["trees"][n]) for r in results) for n in names)]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 5, 7])
    parser.add_argument("--back", type=int, default=1, help="weeks before the validation cut-off to judge at")
    parser.add_argument("--choice", dest="choices", action="append", default=None)
    parser.add_argument("--out", type=Path, default=Path("/tmp/hm_ranker_choices.json"))
    args = parser.parse_args()
    choices = args.choices or list(DEFAULT_CHOICES)
    print(machine_line())
    results = [judge_world(seed, args.back, choices) for seed in args.seeds]
    print(tables(args.seeds, results))
    args.out.write_text(json.dumps({"machine": machine(), "seeds": args.seeds, "back": args.back, "results": results},
                                   indent=1))


if __name__ == "__main__":
    main()
