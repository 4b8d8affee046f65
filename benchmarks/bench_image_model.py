"""Speed and quality of the image relevance model (hm_lib.image_model) on a synthetic world.

    python benchmarks/bench_image_model.py throughput [--world /tmp/hm_bench_image] [--scale default]
    python benchmarks/bench_image_model.py stage [--world /tmp/hm_bench_image] [--scale default] [--fresh]
                                                 [--history-length N] [--no-customer-ids]
    python benchmarks/bench_image_model.py diagnose [--world /tmp/hm_bench_image] [--scale default]

``throughput``: training and scoring interactions per second of the same model (ResNet50 settings of
the scale, end_to_end) and the same batch of ``--batch`` interactions, computed (1) naively, every
interaction's photo through the whole backbone, (2) with the frozen head read from the feature
cache, (3) cache plus one item-tower row per distinct article of a random batch, (4) cache plus
batches grouped by article, as phase 2 trains. Photos are decoded beforehand for every path.
``stage``: the whole image stage (pretraining, feature cache, four variants, evaluation, saving) with
its timings, ablation and style probe; ``--fresh`` empties the cache first so everything is computed.
``diagnose`` (after ``stage``, which caches the pretrained backbone): why images help little here.
A linear probe of the hidden style from pooled (average, max) outputs of several backbone blocks, and
the no_image model given the *true* style as an extra article attribute (4 weeks of pairs without and
with purchase histories; 16 weeks with them): the most any image feature could add through the style.
Training pairs come from hm_lib.negatives (default settings of the scale, cut-off after the last day).
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import logging
import shutil
import time
from pathlib import Path

import keras
import numpy as np
import polars as pl

from benchmarks.measure import world_with_photos
from hm_lib.config import Config
from hm_lib.data import Dataset, load
from hm_lib.image_model import (ImageModelSettings, ImageSource, PairBatches, build_backbone, build_model,
                                evaluate, linear_probe, model_tables, photo_features, run_image_stage,
                                sample_eval_set, score_pairs, split_backbone, train_variant)
from hm_lib.image_model.backbone import preprocess
from hm_lib.image_model.features import run_in_batches
from hm_lib.image_model.history import history_start, with_purchase_history
from hm_lib.image_model.scoring import ImageRelevanceModel
from hm_lib.image_model.stage import clone_tail, prepare_backbone
from hm_lib.image_model.train import pair_arrays
from hm_lib.negatives import NegativeSettings, sample_pairs, split_pairs
from hm_lib.synthetic import load_truth

log = logging.getLogger("bench_image_model")


def world(root: Path, scale: str) -> tuple[Config, Dataset, pl.DataFrame, pl.DataFrame]:
    """The synthetic world (generated once, seed 42) and its train / validation pairs."""
    world_with_photos(root, scale, progress=False)
    cfg = Config.for_scale(scale, data_dir=root / "raw", work_dir=root, output_dir=root / "outputs")
    ds = load(cfg.data_dir, cfg.processed_dir)
    cutoff = ds.end_date + dt.timedelta(days=1)
    settings = NegativeSettings.for_scale(scale)
    pairs, _ = sample_pairs(ds.transactions, ds.articles, cutoff, settings, seed=cfg.seed)
    split = split_pairs(pairs, cutoff, settings, seed=cfg.seed)
    return cfg, ds, split.train, split.valid


def _rate(step, batches: list, repeat: int = 1) -> float:
    """Interactions per second of ``step`` over ``batches`` (after one warm-up call per distinct shape)."""
    shapes = {}
    for b in batches:
        shapes.setdefault(tuple(np.shape(v) for v in b[0].values()), b)
    for b in shapes.values():
        step(b)
    start = time.perf_counter()
    n = 0
    for _ in range(repeat):
        for b in batches:
            step(b)
            n += int(b[2].sum())
    return n / (time.perf_counter() - start)


def throughput(cfg: Config, ds: Dataset, train: pl.DataFrame, scale: str, batch: int, naive_batches: int,
               fast_batches: int) -> list[dict]:
    settings = ImageModelSettings.for_scale(scale, weights="random", batch_size=batch,
                                            cache_dir=cfg.work_dir / "bench_cache")
    keras.utils.set_random_seed(settings.seed)
    tables = model_tables(ds.articles, ds.customers, settings.article_attributes, settings.customer_attributes)
    split = split_backbone(build_backbone(settings), settings.trainable_from)
    source = ImageSource(cfg.data_dir, settings.image_size, settings.decode_workers)
    features = photo_features(split, settings, source, tables.article_ids, settings.cache_dir)
    tables = with_purchase_history(tables, ds.transactions, history_start(train), settings, features)
    photos, _ = source.read_all(tables.article_ids)
    model = build_model("end_to_end", settings, tables, features, clone_tail(split.tail))
    model.compile(optimizer=keras.optimizers.Adam(settings.lr_finetune),
                  loss=keras.losses.BinaryCrossentropy(from_logits=True))
    customers, articles, labels = pair_arrays(train, tables)
    b = settings.batch_size

    def plan(**kw) -> PairBatches:
        return PairBatches(customers, articles, labels, features.maps, b, seed=1, **kw)

    def naive_train(batch) -> None:
        x, y, w = batch
        x = {**x, "image": run_in_batches(split.head, preprocess(photos[x["article"]]))}
        model.train_on_batch(x, y, sample_weight=w)

    def train_step(batch) -> None:
        model.train_on_batch(*batch[:2], sample_weight=batch[2])

    random_naive = plan(dedupe=False)
    random_dedupe, grouped = plan(), plan(group_articles=settings.group_articles)
    rows = []
    for name, ds_, step, n in (
        ("naive: whole backbone per interaction", random_naive, naive_train, naive_batches),
        ("cached head, tail per interaction", random_naive, train_step, naive_batches),
        ("cached head, tail per distinct article (random batches)", random_dedupe, train_step, fast_batches),
        ("cached head, tail per distinct article (batches grouped by article)", grouped, train_step,
         fast_batches),
    ):
        batches = [ds_[i] for i in range(min(n, len(ds_)))]
        rate = _rate(step, batches)
        rows.append({"path": f"train: {name}", "interactions_per_s": rate,
                     "tail_rows_per_epoch": ds_.distinct_articles, "batches_per_epoch": len(ds_)})
        log.info("%s", rows[-1])
    # scoring: the whole backbone per pair versus score_pairs (item tower once per article)
    pairs = train.head(50_000)
    scorer = ImageRelevanceModel(model, settings, tables.article_ids, features.maps)
    start = time.perf_counter()
    score_pairs(scorer, pairs)
    fast = pairs.height / (time.perf_counter() - start)
    naive_pairs = [random_naive[i] for i in range(naive_batches)]

    def naive_score(batch) -> None:
        x = {**batch[0], "image": run_in_batches(split.head, preprocess(photos[batch[0]["article"]]))}
        model.predict_on_batch(x)

    rows.append({"path": "score: naive, whole backbone per pair",
                 "interactions_per_s": _rate(naive_score, naive_pairs)})
    rows.append({"path": "score: score_pairs (item tower once per article)", "interactions_per_s": fast})
    return rows


def stage(cfg: Config, ds: Dataset, train: pl.DataFrame, valid: pl.DataFrame, scale: str, fresh: bool,
          history_length: int | None = None, customer_ids: bool = True) -> dict:
    settings = ImageModelSettings.for_scale(scale, cache_dir=cfg.work_dir / "stage_cache", ablation_always=True)
    if history_length is not None:
        settings = settings.replace(history_length=history_length)
    settings = settings.replace(customer_ids=customer_ids)
    if fresh and settings.cache_dir.exists():
        shutil.rmtree(settings.cache_dir)
    start = time.perf_counter()
    result = run_image_stage(cfg, ds, train, valid, settings)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "pairs": {"train": train.height, "valid": valid.height},
            "ablation": result.ablation.to_dicts(),
            "style_probe": None if result.style_probe is None else result.style_probe.to_dicts(),
            "weights": result.weights, "placeholders": result.placeholders, "timings": result.timings}


PROBE_BLOCKS = ("conv2_block3_out", "conv3_block4_out", "conv4_block4_out", "conv5_block3_out")


def diagnose(cfg: Config, ds: Dataset, scale: str) -> dict:
    settings = ImageModelSettings.for_scale(scale, cache_dir=cfg.work_dir / "stage_cache")
    tables = model_tables(ds.articles, ds.customers, settings.article_attributes, settings.customer_attributes)
    truth = load_truth(cfg.truth_dir)
    style = (pl.DataFrame({"article_id": tables.article_ids.astype(np.int32)})
             .join(pl.DataFrame({"article_id": truth.article_ids.astype(np.int32), "style": truth.style}),
                   on="article_id", how="left", maintain_order="left")["style"].to_numpy())
    codes = (pl.DataFrame({"article_id": tables.article_ids.astype(np.int32)})
             .join(ds.articles.select("article_id", "product_code"), on="article_id", how="left",
                   maintain_order="left")["product_code"].to_numpy())
    source = ImageSource(cfg.data_dir, settings.image_size, settings.decode_workers)
    split, _ = prepare_backbone(settings, ds, source, settings.cache_dir)
    blocks = keras.Model(split.backbone.input, [split.backbone.get_layer(n).output for n in PROBE_BLOCKS])
    pooled: list[list[np.ndarray]] = [[] for _ in PROBE_BLOCKS]
    for _, images, _ in source.read(tables.article_ids):
        for lo in range(0, len(images), 128):
            for out, block in zip(pooled, blocks(preprocess(images[lo:lo + 128]), training=False)):
                block = keras.ops.convert_to_numpy(block)
                out.append(np.concatenate([block.mean(axis=(1, 2)), block.max(axis=(1, 2))], axis=1))
    probes = {}
    for name, parts in zip(PROBE_BLOCKS, pooled):
        f = np.concatenate(parts)
        half = f.shape[1] // 2
        average = linear_probe(f[:, :half], style, codes)
        probes[name] = {"average": average["accuracy"], "max": linear_probe(f[:, half:], style, codes)["accuracy"],
                        "majority": average["majority"]}
    with_style = dataclasses.replace(tables, article_codes=np.hstack([tables.article_codes, style[:, None] + 1]),
                                     article_cards=[*tables.article_cards, int(style.max()) + 2])
    oracle = []
    cutoff = ds.end_date + dt.timedelta(days=1)
    for days, history_length in ((28, 0), (28, settings.history_length), (112, settings.history_length)):
        neg = NegativeSettings.for_scale(scale, window_days=days)
        pairs, _ = sample_pairs(ds.transactions, ds.articles, cutoff, neg, seed=cfg.seed)
        split_ = split_pairs(pairs, cutoff, neg, seed=cfg.seed)
        universe = np.unique(pl.concat([split_.train, split_.valid])["article_id"].to_numpy())
        eval_set = sample_eval_set(split_.valid, ds.transactions, universe, settings.eval_negatives,
                                   settings.eval_customers, settings.seed)
        run = settings.replace(history_length=history_length)
        for name, t in (("no_image", tables), ("no_image + true style attribute", with_style)):
            t = with_purchase_history(t, ds.transactions, history_start(split_.train), run)
            fit = train_variant("no_image", run, t, split_.train, split_.valid)
            metrics = evaluate(ImageRelevanceModel(fit.model, run, t.article_ids, None), eval_set)
            oracle.append({"window_days": days, "history_length": history_length, "model": name, **metrics,
                           "val_pair_auc": fit.history[-1]["val_auc"]})
    return {"probe": probes, "oracle": oracle}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("what", choices=("throughput", "stage", "diagnose"))
    p.add_argument("--world", type=Path, default=Path("/tmp/hm_bench_image"))
    p.add_argument("--scale", default="default")
    p.add_argument("--fresh", action="store_true", help="stage: empty the feature cache first")
    p.add_argument("--history-length", type=int, default=None,
                   help="stage: purchases the customer tower reads (0: the paper's customer embedding)")
    p.add_argument("--no-customer-ids", action="store_true",
                   help="stage: no learnt row per customer (attributes and purchase history only)")
    p.add_argument("--batch", type=int, default=512, help="throughput: interactions per batch, every path")
    p.add_argument("--naive-batches", type=int, default=3)
    p.add_argument("--fast-batches", type=int, default=30)
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    cfg, ds, train, valid = world(args.world / args.scale, args.scale)
    if args.what == "throughput":
        rows = throughput(cfg, ds, train, args.scale, args.batch, args.naive_batches, args.fast_batches)
        base = rows[0]["interactions_per_s"]
        print("| path | interactions/s | speed-up | tail rows per epoch |")
        print("|---|---:|---:|---:|")
        for r in rows:
            ref = base if r["path"].startswith("train") else rows[-2]["interactions_per_s"]
            print(f"| {r['path']} | {r['interactions_per_s']:,.0f} | {r['interactions_per_s'] / ref:.1f}x | "
                  f"{r.get('tail_rows_per_epoch', '')} |")
    elif args.what == "stage":
        print(json.dumps(stage(cfg, ds, train, valid, args.scale, args.fresh, args.history_length,
                                      not args.no_customer_ids), indent=2,
                         default=str))
    else:
        print(json.dumps(diagnose(cfg, ds, args.scale), indent=2, default=str))


if __name__ == "__main__":
    main()
