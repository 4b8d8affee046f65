"""MAP@12 of every model of `hm run --validate` over several synthetic worlds: mean, spread, and each ablation
paired with the ranker it was fitted beside.

    python -m benchmarks.bench_quality [--scale default] [--seeds 42 5 7] [--set SECTION__FIELD=VALUE ...]

World S is generated once in ``/tmp/hm_quality_<scale>_<S>`` (with its photos), then the chain runs there in a
child process with ``--seed S`` and the ``--set`` options (e.g. ``ranker__compare_without=taste``: a ranker
without the taste family, fitted on the same rows). An ablation's gain is the ranker's MAP@12 minus its
own on each world, so the worlds' spread cancels out. Prints Markdown tables for docs/benchmarks.md and writes
the figures to ``--out``.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.measure import machine, machine_line, world_with_photos

CEILINGS = ("oracle", "oracle_within_candidates")


def run_world(scale: str, seed: int, overrides: list[str]) -> dict[str, Any]:
    """One world's validation figures (``outputs/validation.json``) and the chain's seconds."""
    world = Path(f"/tmp/hm_quality_{scale}_{seed}")
    world_with_photos(world, scale, seed)
    command = [sys.executable, "-m", "hm_lib.cli", "run", "--data", str(world / "raw"), "--work", str(world / "work"),
               "--outputs", str(world / "outputs"), "--scale", scale, "--seed", str(seed), "--validate",
               *[arg for o in overrides for arg in ("--set", o)]]
    start = time.perf_counter()
    subprocess.run(command, check=True)
    figures = json.loads((world / "outputs" / "validation.json").read_text())
    return {"seconds": round(time.perf_counter() - start, 1), "figures": figures}


def map12(figures: dict[str, Any]) -> dict[str, float]:
    """MAP@12 of every scored model (the entries that carry one)."""
    return {name: row["map@12"] for name, row in figures.items() if isinstance(row, dict) and "map@12" in row}


def row(label: str, values: list[float], signed: bool = False) -> str:
    """A table row: the values, their mean and standard deviation."""
    spec = "+.4f" if signed else ".4f"
    mean = statistics.fmean(values)
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"| {label} | " + " | ".join(f"{v:{spec}}" for v in values) + f" | {mean:{spec}} | {sd:.4f} |"


def tables(seeds: list[int], results: list[dict[str, Any]]) -> str:
    scores = [map12(r["figures"]) for r in results]
    names = [n for n in scores[0] if all(n in s for s in scores)]
    columns = " | ".join(f"seed {s}" for s in seeds) + " | mean | sd |"
    rule = "|---|" + "---:|" * (len(seeds) + 2)
    rows = [f"| MAP@12 | {columns}", rule, *(row(n, [s[n] for s in scores]) for n in names)]
    ablations = [n for n in names if n.startswith("ranker_without_")]
    if ablations:
        rows += ["", f"| gain of what the ablation leaves out (ranker - ablation) | {columns}", rule,
                 *(row(n.removeprefix("ranker_without_"), [s["ranker"] - s[n] for s in scores], signed=True)
                   for n in ablations)]
    for ceiling in (n for n in CEILINGS if n in names):
        shares = [s["ranker"] / s[ceiling] for s in scores]
        rows.append(f"ranker / {ceiling}: " + ", ".join(f"{v:.2f}" for v in shares)
                    + f" (mean {statistics.fmean(shares):.2f})")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="default", choices=("tiny", "small", "default"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 5, 7])
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION__FIELD=VALUE")
    parser.add_argument("--out", type=Path, default=Path("/tmp/hm_quality.json"))
    args = parser.parse_args()
    print(machine_line())
    results = [run_world(args.scale, seed, args.overrides) for seed in args.seeds]
    args.out.write_text(json.dumps({"machine": machine(), "scale": args.scale, "seeds": args.seeds,
                                    "overrides": args.overrides, "runs": results}, indent=1))
    print(tables(args.seeds, results))
    print("seconds per world: " + ", ".join(str(r["seconds"]) for r in results))


if __name__ == "__main__":
    main()
