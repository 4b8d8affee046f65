"""Time and quality of the resampled relevance ensemble (hm_lib.ensemble) on a synthetic world.

    python benchmarks/bench_ensemble.py [--world /tmp/hm_bench_image] [--scale default] [--variant V]
                                        [--members K] [--weeks-back W]

Trains the whole ensemble (K members, stacker, class-weighted single model) from scratch for the
cut-off ``W`` weeks before the day after the data (the image feature cache is reused once built) and
prints the time of the members + stacker against the single model's, and the comparison on the
held-out pairs (AUC, average precision, log loss).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import time
from pathlib import Path

from benchmarks.measure import peak_rss_mib, world_with_photos
from hm_lib.config import Config
from hm_lib.data import load
from hm_lib.ensemble import run_ensemble


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world", type=Path, default=Path("/tmp/hm_bench_image"))
    parser.add_argument("--scale", default="default")
    parser.add_argument("--variant", default=None)
    parser.add_argument("--members", type=int, default=None)
    parser.add_argument("--weeks-back", type=int, default=0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    world_with_photos(args.world, args.scale, progress=False)
    overrides = {k: v for k, v in {"ensemble__variant": args.variant, "ensemble__members": args.members}.items()
                 if v is not None}
    cfg = Config.for_scale(args.scale, data_dir=args.world / "raw", work_dir=args.world,
                           output_dir=args.world / "outputs", **overrides)
    ds = load(cfg.data_dir, cfg.processed_dir)
    cutoff = ds.end_date + dt.timedelta(days=1) - dt.timedelta(weeks=args.weeks_back)
    start = time.perf_counter()
    result = run_ensemble(cfg, ds, cutoff, force=True)
    seconds = time.perf_counter() - start
    print(json.dumps({"scale": args.scale, "cutoff": cutoff.isoformat(), "settings": result.settings.as_dict(),
                      "resampling": result.resampling, "timings": result.timings,
                      "ensemble_over_single": result.time_ratio, "stage_seconds": seconds,
                      "peak_rss_mib": peak_rss_mib()}, indent=1))
    print(result.comparison.select("model", "auc", "average_precision", "log_loss", "mean_probability")
          .to_pandas().round(4).to_string(index=False))


if __name__ == "__main__":
    main()
