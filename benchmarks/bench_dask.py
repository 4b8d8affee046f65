"""The chain's cluster tasks in one process and on a local Dask cluster: seconds, peak memory per process, and
whether both give the same bytes.

    python -m benchmarks.bench_dask --synthetic-scale full [--workers 2] [--customers 300000] [--weeks 1]
    python -m benchmarks.bench_dask --world /tmp/hm_chain_full     # a world already generated (raw/ inside)
    python -m benchmarks.bench_dask --synthetic-scale small --map-seeds 42 5 7   # the Dask ranker's MAP@12

For the submission cut-off (the day after the data), each mode runs in its own child process with its own
work folder: the candidates of every customer (``write_candidates``, a task per customer shard), the ranker's
labelled weeks (a task per week; ``--weeks`` training weeks and the early-stopping week), a LightGBM fit
(local in both modes, so both rank with the same trees), and the scoring shards of the first ``--customers``
customers (a task per shard; no image relevance score). A worker's peak is read in the worker (VmHWM). The
candidates and the ranked lists of the two modes are compared row for row. Prints a Markdown table for
docs/benchmarks.md.

With ``--map-seeds``, instead: MAP@12 on the validation week (the world's last 7 days) of the local LightGBM
ranker and of ``lightgbm_dask`` on the cluster, each fitted on the same labelled weeks once per ranker seed (the
Dask ranker's trees also depend on where the scheduler puts its parts, so its spread includes that).
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.measure import machine_line, synthetic_raw

CHILD = """
import datetime as dt, json, sys, time
from pathlib import Path
import numpy as np, polars as pl
from hm_lib import cluster, ranking
from hm_lib.candidates import CandidateSettings, Past, write_candidates
from hm_lib.config import Config
from hm_lib.data import load

def peak_mib():
    line = next(x for x in Path("/proc/self/status").read_text().splitlines() if x.startswith("VmHWM"))
    return int(line.split()[1]) / 1024

raw, scale, work, workers, customers, weeks = sys.argv[1], sys.argv[2], sys.argv[3], *map(int, sys.argv[4:7])
extra = {"ranker__train_weeks": weeks, "cluster__workers": workers}  # 0: one process, at every scale
cfg = Config.for_scale(scale, data_dir=raw, work_dir=work, output_dir=work + "/outputs", **extra)
ds = load(cfg.data_dir, cfg.processed_dir)
cutoff = ds.end_date + dt.timedelta(days=1)
on = cluster.connect(cfg)
steps = {}
t = time.perf_counter()
write_candidates(Past.from_dataset(ds, cutoff), ds.customers, cfg.settings("candidates", CandidateSettings),
                 cfg.work_dir, cfg.shard_customers, cluster=on)
steps["candidates (a task per customer shard)"] = time.perf_counter() - t
t = time.perf_counter(); train, valid = ranking.training_frames(cfg, ds, cutoff)
steps["labelled weeks (a task per week)"] = time.perf_counter() - t
t = time.perf_counter(); model = ranking.make_ranker(cfg.settings("ranker", ranking.RankerSettings)).fit(train, valid)
steps["LightGBM fit (local in both modes)"] = time.perf_counter() - t
rows = train.height
del train, valid
ids = pl.DataFrame({"customer": np.arange(min(customers, ds.customers.height), dtype=np.int32)})
t = time.perf_counter(); preds = ranking.predict(cfg, ds, {"ranker": model}, cutoff, customers=ids)["ranker"]
steps["scoring shards (a task per shard)"] = time.perf_counter() - t
preds.write_parquet(Path(work) / "predictions.parquet")
peaks = {"main": peak_mib()}
if on is not None:
    peaks |= {f"worker {i + 1}": mib for i, mib in enumerate(sorted(on.client.run(peak_mib).values(), reverse=True))}
print(json.dumps({"steps": steps, "peaks_mib": peaks, "train_rows": rows, "ranked": ids.height,
                  "workers": len(on.client.scheduler_info()["workers"]) if on else 0}))
"""


MAP_CHILD = """
import dataclasses, json, sys
from hm_lib import cluster, cutoffs, ranking
from hm_lib.config import Config
from hm_lib.data import load
from hm_lib.evaluation import score
from hm_lib.ranking.stage import ranked_customers
from hm_lib.truth import truth_for_week

raw, scale, work, workers, seeds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5:]
cfg = Config.for_scale(scale, data_dir=raw, work_dir=work, output_dir=work + "/outputs", validate=True,
                       cluster__workers=workers)
ds = load(cfg.data_dir, cfg.processed_dir)
cutoff = cutoffs.cutoff_for(cfg, ds)
cluster.connect(cfg)
train, valid = ranking.training_frames(cfg, ds, cutoff)
settings = cfg.settings("ranker", ranking.RankerSettings)
models = {f"{name} seed {seed}": ranking.make_ranker(dataclasses.replace(settings, model=name, seed=int(seed)))
          .fit(train, valid) for name in ("lightgbm", "lightgbm_dask") for seed in seeds}
preds = ranking.predict(cfg, ds, models, cutoff, customers=ranked_customers(cfg, ds, cutoff))
rows = truth_for_week(cfg, ds, cutoff)
print(json.dumps({name: score(p, rows, cutoff, cfg.holdout_days)["map@12"] for name, p in preds.items()}))
"""


def run_map(raw: Path, scale: str, work: Path, workers: int, seeds: list[int]) -> dict[str, float]:
    command = [sys.executable, "-c", MAP_CHILD, str(raw), scale, str(work), str(workers), *map(str, seeds)]
    out = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def map_table(scores: dict[str, float], seeds: list[int]) -> str:
    """MAP@12 of both rankers per seed, with their mean and standard deviation, as a markdown table."""
    lines = ["| MAP@12 | " + " | ".join(f"seed {s}" for s in seeds) + " | mean | sd |",
             "|---|" + "---:|" * (len(seeds) + 2)]
    for name in ("lightgbm", "lightgbm_dask"):
        values = [scores[f"{name} seed {s}"] for s in seeds]
        sd = statistics.stdev(values) if len(values) > 1 else 0.0
        lines.append(f"| {name} | " + " | ".join(f"{v:.4f}" for v in values)
                     + f" | {statistics.fmean(values):.4f} | {sd:.4f} |")
    return "\n".join(lines)


def run_mode(raw: Path, scale: str, work: Path, workers: int, customers: int, weeks: int) -> dict:
    """One mode's figures, from its child process (0 workers: one process, no cluster)."""
    command = [sys.executable, "-c", CHILD, str(raw), scale, str(work), str(workers), str(customers), str(weeks)]
    out = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def same_candidates(a: Path, b: Path) -> bool:
    """Whether two work folders hold the same candidate rows (every part, read in order)."""
    import polars as pl

    def rows(work: Path) -> pl.DataFrame:
        return pl.concat([pl.read_parquet(p) for p in sorted(work.glob("candidates/cutoff=*/part-*.parquet"))])

    return rows(a).equals(rows(b))


def same_predictions(a: Path, b: Path) -> bool:
    """Whether two work folders ranked every customer's list the same."""
    import polars as pl

    return pl.read_parquet(a / "predictions.parquet").equals(pl.read_parquet(b / "predictions.parquet"))


def table(local: dict, distributed: dict, workers: int) -> str:
    lines = [f"| step | one process (s) | {workers} workers (s) | ratio |", "|---|---:|---:|---:|"]
    for step, seconds in local["steps"].items():
        other = distributed["steps"][step]
        lines.append(f"| {step} | {seconds:,.0f} | {other:,.0f} | {other / seconds:.2f} |")
    total_local, total_other = sum(local["steps"].values()), sum(distributed["steps"].values())
    lines.append(f"| **total** | **{total_local:,.0f}** | **{total_other:,.0f}** | **{total_other / total_local:.2f}** |")
    peaks = ", ".join(f"{name} {mib / 1024:.1f} GiB" for name, mib in distributed["peaks_mib"].items())
    lines += ["", f"peak RSS: one process {local['peaks_mib']['main'] / 1024:.1f} GiB; with the cluster: {peaks}"]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthetic-scale", choices=("tiny", "small", "default", "full"), default="full")
    parser.add_argument("--world", type=Path, help="a world folder with raw/ inside (default: a synthetic one "
                                                   "without photos, generated once)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--customers", type=int, default=300_000, help="customers ranked by the scoring shards")
    parser.add_argument("--weeks", type=int, default=1, help="training weeks (besides the early-stopping week)")
    parser.add_argument("--map-seeds", type=int, nargs="+", help="compare the rankers' MAP@12 instead (see above)")
    args = parser.parse_args()
    raw = args.world / "raw" if args.world else synthetic_raw(args.synthetic_scale)
    print(machine_line())
    root = Path(tempfile.mkdtemp(prefix="hm_bench_dask_"))
    if args.map_seeds:
        print(f"raw {raw}, scale {args.synthetic_scale}, {args.workers} workers\n")
        print(map_table(run_map(raw, args.synthetic_scale, root, args.workers, args.map_seeds), args.map_seeds))
        return
    local = run_mode(raw, args.synthetic_scale, root / "local", 0, args.customers, args.weeks)
    distributed = run_mode(raw, args.synthetic_scale, root / "cluster", args.workers, args.customers, args.weeks)
    print(f"raw {raw}, scale {args.synthetic_scale}: {local['ranked']:,} customers ranked, {local['train_rows']:,} "
          f"training rows, {distributed['workers']} workers (one thread each)\n")
    print(table(local, distributed, args.workers))
    print(f"\nsame candidates: {same_candidates(root / 'local', root / 'cluster')}; "
          f"same ranked lists: {same_predictions(root / 'local', root / 'cluster')}")


if __name__ == "__main__":
    main()
