"""Time and peak memory of the ranking stage (features, training, scoring every customer).

    python benchmarks/bench_ranking.py --synthetic-scale full   # the full synthetic world, without images
    python benchmarks/bench_ranking.py data/raw                  # any raw folder

Runs `hm_lib.ranking` for the submission cut-off (the day after the data) in a child process
and prints a markdown table of the steps.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = """
import datetime as dt, json, sys, time
from pathlib import Path
from hm_lib.config import Config
from hm_lib.data import load
from hm_lib import ranking
cfg = Config.for_scale(sys.argv[2], data_dir=sys.argv[1], work_dir=sys.argv[3], output_dir=sys.argv[3] + "/outputs")
figures = {}
t = time.perf_counter(); ds = load(cfg.data_dir, cfg.processed_dir); figures["load"] = time.perf_counter() - t
cutoff = ds.end_date + dt.timedelta(days=1)
t = time.perf_counter(); train, valid = ranking.training_frames(cfg, ds, cutoff); figures["labelled weeks (candidates + features)"] = time.perf_counter() - t
n_train = train.height
t = time.perf_counter(); model = ranking.make_ranker(cfg.settings("ranker", ranking.RankerSettings)).fit(train, valid); figures["fit"] = time.perf_counter() - t
del train, valid
t = time.perf_counter(); preds = ranking.predict(cfg, ds, {"ranker": model}, cutoff)["ranker"]; figures["predict (candidates + features + scoring)"] = time.perf_counter() - t
peak = int(next(l for l in Path("/proc/self/status").read_text().splitlines() if l.startswith("VmHWM")).split()[1]) / 1024
print(json.dumps({"steps": figures, "peak_mib": peak, "customers": preds["customer"].n_unique(), "train_rows": n_train}))
"""


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("raw", nargs="?", type=Path)
    p.add_argument("--synthetic-scale", choices=("tiny", "small", "default", "full"))
    p.add_argument("--scale", default=None, help="configuration scale (default: the synthetic scale, else default)")
    args = p.parse_args()
    raw = args.raw
    if raw is None:
        if not args.synthetic_scale:
            p.error("give a raw folder or --synthetic-scale SCALE")
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from benchmarks.measure import synthetic_raw

        raw = synthetic_raw(args.synthetic_scale)
    scale = args.scale or args.synthetic_scale or "default"
    work = Path(tempfile.mkdtemp(prefix="hm_bench_ranking_"))
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", CHILD, str(raw), scale, str(work)], check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    r = json.loads(out.strip().splitlines()[-1])
    print(f"raw {raw}, scale {scale}: {r['customers']:,} customers ranked, {r['train_rows']:,} training rows\n")
    print("| step | seconds |\n|---|---:|")
    for step, seconds in r["steps"].items():
        print(f"| {step} | {seconds:.0f} |")
    print(f"| total (child process) | {time.perf_counter() - t:.0f} |\n\npeak RSS {r['peak_mib']:,.0f} MiB")


if __name__ == "__main__":
    main()
