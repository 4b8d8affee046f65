"""The relevance model on new arrivals: the paper's ablation by article slice and the ranker's new-arrival recall,
per choice of the cold-start settings, over several synthetic worlds.

    python -m benchmarks.bench_cold_start [--seeds 42 5 7] [--choice NAME=SECTION__FIELD=VALUE[,...] ...]
                                          [--set SECTION__FIELD=VALUE ...] [--out FILE.json]

World S (``/tmp/hm_quality_default_<S>``, generated with its photos when missing, as bench_quality's) runs
``hm run --validate --from 04_image_model`` once per choice, with the ``--set`` options common to all and the
choice's own. From each run: stage 04's ablation on the week after the cut-off by slice (validation.json
``image_model_slices``: AUC and HR@10 with their standard errors over buyers) and stage 06's ranker, overall
and on new arrivals. Prints, per choice, each variant's gain over no_image on each slice (per world, mean and
standard error over worlds, and the mean of the within-world standard errors), and the ranker's figures
paired against the first choice.
"""
from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.measure import machine, machine_line, world_with_photos

SLICE_ORDER = ("all", "new", "rare", "established")
DEFAULT_CHOICES = ("no_id_dropout=image__id_dropout=0", "id_dropout_0.1=image__id_dropout=0.1")


def parse_choice(text: str) -> tuple[str, list[str]]:
    """``NAME=SECTION__FIELD=VALUE[,SECTION__FIELD=VALUE...]`` -> (name, overrides)."""
    name, _, rest = text.partition("=")
    if not name or "__" not in rest:
        raise SystemExit(f"--choice {text!r}: write NAME=SECTION__FIELD=VALUE[,SECTION__FIELD=VALUE...]")
    overrides, current = [], ""
    for part in rest.split(","):  # a value may itself hold commas (image__variants=a,b): it has no "__"
        if "__" in part.split("=", 1)[0] and current:
            overrides.append(current)
            current = part
        else:
            current = f"{current},{part}" if current else part
    return name, [*overrides, current]


def run(seed: int, overrides: list[str]) -> dict[str, Any]:
    """One validated run from stage 04 on world ``seed``: its validation.json and seconds."""
    world = Path(f"/tmp/hm_quality_default_{seed}")
    world_with_photos(world, "default", seed)
    command = [sys.executable, "-m", "hm_lib.cli", "run", "--data", str(world / "raw"), "--work", str(world / "work"),
               "--outputs", str(world / "outputs"), "--scale", "default", "--seed", str(seed), "--validate",
               "--from", "04_image_model", *[arg for o in overrides for arg in ("--set", o)]]
    start = time.perf_counter()
    subprocess.run(command, check=True)
    figures = json.loads((world / "outputs" / "validation.json").read_text())
    return {"seconds": round(time.perf_counter() - start, 1), "figures": figures}


def slice_rows(figures: dict[str, Any]) -> dict[tuple[str, str], dict[str, float]]:
    return {(r["variant"], r["slice"]): r for r in figures.get("image_model_slices", [])}


def mean_se(values: list[float]) -> tuple[float, float]:
    mean = statistics.fmean(values)
    return mean, (statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else float("nan"))


def gain_table(seeds: list[int], runs: list[dict[str, Any]]) -> str:
    """Each variant's gain over no_image per slice: per world, mean ± SE over worlds, mean within-world SE."""
    rows = [slice_rows(r["figures"]) for r in runs]
    variants = [v for v in dict.fromkeys(k[0] for k in rows[0]) if v != "no_image"]
    head = " | ".join(f"seed {s}" for s in seeds)
    out = [f"| variant - no_image | slice | metric | {head} | mean ± SE over worlds | within-world SE |",
           "|---|---|---|" + "---:|" * (len(seeds) + 2)]
    for variant in variants:
        for name in SLICE_ORDER:
            if not all((variant, name) in r and ("no_image", name) in r for r in rows):
                continue
            for metric in ("auc", "hr@10"):
                gains = [r[(variant, name)][metric] - r[("no_image", name)][metric] for r in rows]
                within = statistics.fmean(math.hypot(r[(variant, name)][f"{metric}_se"],
                                                     r[("no_image", name)][f"{metric}_se"]) for r in rows)
                mean, se = mean_se(gains)
                out.append(f"| {variant} | {name} | {metric} | " + " | ".join(f"{g:+.4f}" for g in gains)
                           + f" | {mean:+.4f} ± {se:.4f} | {within:.4f} |")
    return "\n".join(out)


def level_table(seeds: list[int], runs: list[dict[str, Any]]) -> str:
    """AUC and HR@10 of each variant per slice, mean over worlds, with the buyers scored."""
    rows = [slice_rows(r["figures"]) for r in runs]
    out = ["| variant | slice | buyers (mean) | AUC | HR@10 |", "|---|---|---:|---:|---:|"]
    for (variant, name) in rows[0]:
        if all((variant, name) in r for r in rows):
            pick = [r[(variant, name)] for r in rows]
            out.append(f"| {variant} | {name} | {statistics.fmean(p['customers'] for p in pick):.0f} | "
                       f"{statistics.fmean(p['auc'] for p in pick):.4f} | {statistics.fmean(p['hr@10'] for p in pick):.4f} |")
    return "\n".join(out)


def ranker_figures(figures: dict[str, Any]) -> dict[str, float]:
    new = figures.get("slices", {}).get("new", {})
    return {"map@12": figures["ranker"]["map@12"],
            "new arrivals recall@12": new.get("ranker", {}).get("recall@12", float("nan")),
            "new arrivals held by the candidates": new.get("candidate_recall", {}).get("union", float("nan"))}


def ranker_table(seeds: list[int], results: dict[str, list[dict[str, Any]]]) -> str:
    names = list(results)
    base = [ranker_figures(r["figures"]) for r in results[names[0]]]
    head = " | ".join(f"seed {s}" for s in seeds)
    out = [f"| choice | figure | {head} | mean | paired against {names[0]} (mean ± SE) |",
           "|---|---|" + "---:|" * (len(seeds) + 2)]
    for name in names:
        figs = [ranker_figures(r["figures"]) for r in results[name]]
        for key in figs[0]:
            values = [f[key] for f in figs]
            mean, se = mean_se([v - b[key] for v, b in zip(values, base, strict=True)])
            out.append(f"| {name} | {key} | " + " | ".join(f"{v:.4f}" for v in values)
                       + f" | {statistics.fmean(values):.4f} | {mean:+.4f} ± {se:.4f} |")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 5, 7])
    parser.add_argument("--choice", action="append", default=None, help="NAME=SECTION__FIELD=VALUE[,...]")
    parser.add_argument("--set", action="append", default=[], dest="overrides")
    parser.add_argument("--out", type=Path, default=Path("/tmp/hm_cold_start.json"))
    args = parser.parse_args()
    choices = dict(parse_choice(c) for c in (args.choice or DEFAULT_CHOICES))
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in choices}
    for seed in args.seeds:
        for name, overrides in choices.items():
            results[name].append(run(seed, [*args.overrides, *overrides]))
            args.out.write_text(json.dumps({"machine": machine(), "seeds": args.seeds, "choices": choices,
                                            "common": args.overrides, "results": results}, indent=1))
    print(machine_line())
    for name in choices:
        print(f"\n### {name}: {' '.join(choices[name])}\n\n{level_table(args.seeds, results[name])}\n\n"
              f"{gain_table(args.seeds, results[name])}")
    print(f"\n### The ranker\n\n{ranker_table(args.seeds, results)}")
    print("\nseconds per run: " + ", ".join(f"{n} {[r['seconds'] for r in rs]}" for n, rs in results.items()))


if __name__ == "__main__":
    main()
