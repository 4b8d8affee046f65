"""How much of the oracle's MAP@12 is knowing the target week's own popularity, which no model of the data can
know: the oracle again with each article's popularity of one or two weeks before (what the data has shown).

    python -m benchmarks.bench_oracle_knowable [--seeds 42 5 7]

World S is ``/tmp/hm_quality_default_S`` (``benchmarks.bench_quality`` makes it; generated here if missing);
the week is the validation week (the data's last 7 days), scored over its buyers. An article launched in the
week keeps its own figure (it had none before). The rest of what the oracle knows (each customer's taste topics
and their weights, repurchase and basket propensities) stays exact: the oracle with last week's popularity is
still an upper bound, a tighter one.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import statistics
from pathlib import Path

import numpy as np

from benchmarks.measure import machine, machine_line, world_with_photos

LAGS = (0, 1, 2)


def world_figures(seed: int) -> dict[int, float]:
    """The oracle's MAP@12 on the validation week with the popularity of ``lag`` weeks before, per lag."""
    from hm_lib.data import load
    from hm_lib.evaluation import map_at_k, week_truth
    from hm_lib.synthetic.truth import load_truth, oracle_predictions

    world = Path(f"/tmp/hm_quality_default_{seed}")
    world_with_photos(world, "default", seed)
    ds = load(world / "raw", Path(f"/tmp/hm_oracle_{seed}/processed"))
    start = ds.end_date - dt.timedelta(days=6)
    rows = week_truth(ds.transactions, start, 7)
    buyers = rows["customer"].unique().sort().to_numpy()
    truth = load_truth(world / "synthetic_truth")
    week = truth.cal.week_of(start)
    out = {}
    for lag in LAGS:
        popularity = truth.popularity.copy()
        if lag:
            before = popularity[week - lag]
            popularity[week] = np.where(before > 0, before, popularity[week])
        predictions = oracle_predictions(world / "synthetic_truth", ds.transactions, start, customers=buyers,
                                         progress=False, truth=dataclasses.replace(truth, popularity=popularity))
        out[lag] = map_at_k(predictions, rows)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 5, 7])
    parser.add_argument("--out", type=Path, default=Path("/tmp/hm_oracle_knowable.json"))
    args = parser.parse_args()
    print(machine_line())
    figures = {seed: world_figures(seed) for seed in args.seeds}
    print("| the oracle's popularity | " + " | ".join(f"seed {s}" for s in args.seeds) + " | mean |")
    print("|---|" + "---:|" * (len(args.seeds) + 1))
    for lag in LAGS:
        values = [figures[s][lag] for s in args.seeds]
        label = "the target week's own (the oracle)" if lag == 0 else f"{lag} week{'s' * (lag > 1)} before"
        print(f"| {label} | " + " | ".join(f"{v:.4f}" for v in values) + f" | {statistics.fmean(values):.4f} |")
    args.out.write_text(json.dumps({"machine": machine(), "figures": figures}, indent=1))


if __name__ == "__main__":
    main()
