"""The relevance stages (04 image model, 05 ensemble) at one scale, timed: what a GPU machine runs.

    python -m benchmarks.bench_relevance --scale full --world /tmp/hm_full --out figures.json

Generates the synthetic world with photos when missing, prepares it, builds the training pairs of the
submission's cut-off (stage 03), then runs the image stage and the ensemble as notebooks 04 and 05
do, and writes the figures (seconds per step, peak RSS, Keras backend and devices) as JSON.
``benchmarks/gpu_full.sh`` runs it on the lent H200 with the JAX backend; the suite runs it at tiny
scale on the CPU.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import time
from pathlib import Path
from typing import Any

from benchmarks.measure import peak_rss_mib, world_with_photos

log = logging.getLogger("bench_relevance")


def devices() -> list[str]:
    """The accelerators the Keras backend sees (the CPU alone when none)."""
    import keras

    if keras.backend.backend() == "jax":
        import jax

        return [str(d) for d in jax.devices()]
    import tensorflow as tf

    return [d.name for d in tf.config.list_logical_devices()]


def run(scale: str, world: Path, seed: int = 42, overrides: dict[str, str] | None = None) -> dict[str, Any]:
    import keras

    from hm_lib import cutoffs, negatives, ranking
    from hm_lib.config import Config
    from hm_lib.data import load
    from hm_lib.ensemble import EnsembleSettings, run_ensemble
    from hm_lib.image_model import ImageModelSettings, run_image_stage

    seconds: dict[str, float] = {}

    def timed(step: str, start: float) -> None:
        seconds[step] = round(time.perf_counter() - start, 1)
        log.info("%s: %.1f s (peak RSS %.0f MiB)", step, seconds[step], peak_rss_mib())

    start = time.perf_counter()
    world_with_photos(world, scale, seed)
    timed("generate", start)
    cfg = Config.for_scale(scale, data_dir=world / "raw", work_dir=world, output_dir=world / "outputs", seed=seed,
                           **(overrides or {}))
    start = time.perf_counter()
    ds = load(cfg.data_dir, cfg.processed_dir)
    timed("prepare", start)
    cutoff = cutoffs.cutoff_for(cfg, ds)
    start = time.perf_counter()
    settings = cfg.settings("negatives", negatives.NegativeSettings)
    split = negatives.split_pairs(negatives.build_pairs(cfg, ds, cutoff, settings).pairs, cutoff, settings, seed)
    timed("pairs", start)
    start = time.perf_counter()
    image = run_image_stage(cfg, ds, split.train, split.valid,
                            cfg.settings("image", ImageModelSettings).replace(seed=seed), cutoff=cutoff)
    timed("image stage", start)
    start = time.perf_counter()
    ensemble = run_ensemble(cfg, ds, ranking.relevance_cutoff(cfg, cutoff), cfg.settings("ensemble", EnsembleSettings))
    timed("ensemble", start)
    return {
        "scale": scale, "overrides": overrides or {}, "customers": ds.customers.height,
        "articles": ds.articles.height, "transactions": ds.transactions.height, "train_pairs": split.train.height,
        "keras_backend": keras.backend.backend(), "devices": devices(), "machine": platform.node(),
        "cpus": os.cpu_count(), "seconds": seconds,
        "relevance_seconds": round(seconds["image stage"] + seconds["ensemble"], 1),
        "image_timings": {k: round(v, 1) for k, v in image.timings.items()},
        "ensemble_timings": {k: round(v, 1) for k, v in ensemble.timings.items()},
        "ablation": image.ablation.to_dicts(), "ensemble_comparison": ensemble.comparison.to_dicts(),
        "peak_rss_mib": round(peak_rss_mib()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="full")
    parser.add_argument("--world", type=Path, default=Path("/tmp/hm_relevance"))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, required=True, help="the figures' JSON file")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION__FIELD=VALUE",
                        help="a stage setting, as for hm run (repeatable)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    from hm_lib.config import parse_overrides

    figures = run(args.scale, args.world, args.seed, parse_overrides(args.set))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2, default=str) + "\n")
    print(json.dumps({k: figures[k] for k in ("scale", "keras_backend", "devices", "seconds", "peak_rss_mib")}))


if __name__ == "__main__":
    main()
