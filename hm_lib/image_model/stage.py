"""The image stage of the chain: backbone, cached features, the ablation, the saved model and embeddings.

:func:`run_image_stage` is what notebooks/04_image_model.ipynb calls. It resolves the backbone's
weights (ImageNet from disk, or pretraining on the catalogue's photos), caches the frozen part's
features, trains and evaluates every variant of ``settings.variants`` when validating (end_to_end
continues from frozen_calibrated: the paper's frozen warm-up phase; for a submission only the saved
variant and its warm-up are trained), saves the ``settings.variant`` model, writes
the article image embeddings and, on a synthetic world, probes the features for the hidden style.
"""
from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np
import polars as pl

from hm_lib import layout
from hm_lib.config import Config
from hm_lib.data import Dataset
from hm_lib.image_model.backbone import (
    BackboneSplit,
    WeightsChoice,
    build_backbone,
    resolve_weights,
    split_backbone,
)
from hm_lib.image_model.evaluate import evaluate, sample_eval_set, slice_eval_sets
from hm_lib.image_model.features import ArticleFeatures, photo_features, photo_window
from hm_lib.image_model.history import history_start, scoring_histories, with_purchase_history
from hm_lib.image_model.images import ImageSource, placeholder_counts
from hm_lib.image_model.model import CALIBRATED
from hm_lib.image_model.persist import save_model
from hm_lib.image_model.pretrain import pretrained_weights
from hm_lib.image_model.probe import linear_probe
from hm_lib.image_model.scoring import ImageRelevanceModel, embedding_frame
from hm_lib.image_model.settings import VARIANTS, ImageModelSettings
from hm_lib.image_model.tables import ModelTables, model_tables
from hm_lib.image_model.train import FitResult, customer_sample, image_table, train_variant
from hm_lib.io import write_json, write_parquet
from hm_lib.negatives.sampling import DAY
from hm_lib.schema import ARTICLE

log = logging.getLogger(__name__)


@dataclass
class ImageStageResult:
    """What the stage produced; ``model`` is the ``settings.variant`` model."""

    settings: ImageModelSettings
    model: ImageRelevanceModel
    models: dict[str, ImageRelevanceModel]
    ablation: pl.DataFrame        # variant, auc, hr@10, ndcg@10, customers, their *_se, train_seconds
    slices: pl.DataFrame | None   # variant, slice, negatives, the same metrics on the week after the cut-off
    history: pl.DataFrame         # variant, phase, epoch, loss, auc, val_loss, val_auc, seconds
    weights: dict[str, Any]       # kind, note, pretraining report
    placeholders: dict[str, int]  # photos read, missing, corrupt
    style_probe: pl.DataFrame | None
    tables: ModelTables
    features: ArticleFeatures | None  # the cached head maps and pooled features
    backbone: BackboneSplit | None    # the backbone with its starting weights, as cached
    timings: dict[str, float] = field(default_factory=dict)
    paths: dict[str, Path] = field(default_factory=dict)


@contextmanager
def _timed(timings: dict[str, float], step: str) -> Iterator[None]:
    start = time.perf_counter()
    log.info("image model: %s ...", step)
    yield
    timings[step] = time.perf_counter() - start
    log.info("image model: %s done in %.1f s", step, timings[step])


def cache_root(cfg: Config, settings: ImageModelSettings) -> Path:
    if settings.cache_dir is not None:
        return Path(settings.cache_dir)
    return layout.image_cache_dir(cfg.work_dir)


def prepare_backbone(settings: ImageModelSettings, ds: Dataset, source: ImageSource, root: Path
                     ) -> tuple[BackboneSplit, dict[str, Any]]:
    """The backbone with its starting weights (pretrained here when ImageNet is not at hand), split."""
    choice = resolve_weights(settings)
    info: dict[str, Any] = {"kind": choice.kind, "note": choice.note, "pretraining": None}
    if choice.kind == "pretrain":
        path, info["pretraining"] = pretrained_weights(settings, ds.articles, source, root)
        choice = WeightsChoice("file", path, f"pretrained on the catalogue's photos: {path}")
    keras.utils.set_random_seed(settings.seed)
    split = split_backbone(build_backbone(settings, choice), settings.trainable_from)
    log.info("image model: %s cut after %s (cached once per article); %d layers with weights train in its tail",
             split.backbone.name, split.cut_layer, len(split.trainable_tail_layers))
    return split, info


def clone_tail(tail: keras.Model) -> keras.Model:
    """A copy of the backbone's tail (trainable flags kept) that fine-tuning may change."""
    copy = keras.models.clone_model(tail)
    copy.set_weights(tail.get_weights())
    return copy


def probe_positions(n_articles: int, limit: int | None, seed: int) -> np.ndarray:
    """The article positions the style probe reads: all, or a sorted seeded sample of ``limit``."""
    if limit is None or n_articles <= limit:
        return np.arange(n_articles)
    return np.sort(np.random.default_rng(seed).choice(n_articles, size=limit, replace=False))


def style_probe(cfg: Config, ds: Dataset, tables: ModelTables, features: ArticleFeatures,
                models: dict[str, ImageRelevanceModel], positions: np.ndarray) -> pl.DataFrame | None:
    """Linear-probe accuracy of the hidden style, on the articles at ``positions``, from the pooled features
    and from the calibration layer of each calibrated variant in ``models``."""
    from hm_lib.synthetic import load_truth
    from hm_lib.truth import has_truth

    if not has_truth(cfg, ds):
        return None
    truth = load_truth(cfg.truth_dir)
    style = pl.DataFrame({ARTICLE: truth.article_ids.astype(np.int32), "style": truth.style})
    arts = (pl.DataFrame({ARTICLE: tables.article_ids[positions].astype(np.int32)})
            .join(style, on=ARTICLE, how="left", maintain_order="left")
            .join(ds.articles.select(ARTICLE, "product_code"), on=ARTICLE, how="left", maintain_order="left"))
    labels, groups = arts["style"].to_numpy(), arts["product_code"].to_numpy()
    rows = [{"features": "pooled backbone features (frozen)", **linear_probe(
        features.pooled.take(positions).astype(np.float32), labels, groups, seed=cfg.seed)}]
    for variant, model in models.items():
        if variant in CALIBRATED:
            rows.append({"features": f"{variant}: calibration layer output",
                         **linear_probe(model.image_embeddings(positions), labels, groups, seed=cfg.seed)})
    return pl.DataFrame(rows)


def _order(settings: ImageModelSettings, validate: bool) -> list[str]:
    """The variants to train, in ablation order: all of ``settings.variants`` when validating (or with
    ``ablation_always``); otherwise only the saved variant, after frozen_calibrated when end_to_end
    warm-starts from it (the saved model is then the one validation trains)."""
    wanted = {settings.variant}
    if validate or settings.ablation_always:
        wanted |= set(settings.variants)
    elif settings.variant == "end_to_end" and "frozen_calibrated" in settings.variants:
        wanted.add("frozen_calibrated")
    return [v for v in VARIANTS if v in wanted]


def run_image_stage(cfg: Config, ds: Dataset, pairs_train: pl.DataFrame, pairs_valid: pl.DataFrame,
                    settings: ImageModelSettings | None = None, verbose: int = 0,
                    cutoff: dt.date | None = None) -> ImageStageResult:
    """Train, evaluate and save the image relevance model and its ablation (see the module docstring).

    ``pairs_train`` / ``pairs_valid``: customer Int32, article_id Int32, label Int8, day Date (other columns
    ignored). The customer tower trains and is evaluated with the purchase histories before the first
    training day; the saved model reads those before ``cutoff`` (default: the day after the last pair).
    Outputs go to {output_dir}/image_model/; the feature cache to ``settings.cache_dir``.
    """
    settings = settings or ImageModelSettings.for_scale(cfg.scale, seed=cfg.seed)
    out_dir, root = cfg.output_dir / "image_model", cache_root(cfg, settings)
    timings: dict[str, float] = {}
    variants = _order(settings, cfg.validate)
    pairs_train = customer_sample(pairs_train, settings.train_customers, settings.seed)
    with _timed(timings, "tables"):
        tables = model_tables(ds.articles, ds.customers, settings.article_attributes,
                              settings.customer_attributes).with_seen(pairs_train)
        universe = np.unique(np.concatenate([pairs_train[ARTICLE].to_numpy(),
                                             pairs_valid[ARTICLE].to_numpy()]))
        eval_set = sample_eval_set(pairs_valid, ds.transactions, universe, settings.eval_negatives,
                                   settings.eval_customers, settings.seed)
    cutoff = cutoff or pl.concat([pairs_train[DAY], pairs_valid[DAY]]).max() + dt.timedelta(days=1)
    slice_sets = (slice_eval_sets(ds.transactions, cutoff, cfg.holdout_days, settings.eval_negatives,
                                  settings.eval_customers, settings.seed) if cfg.validate else {})
    split, features, weights = None, None, {"kind": None, "note": "no image variant", "pretraining": None}
    if any(v != "no_image" for v in variants):
        source = ImageSource(cfg.data_dir, settings.image_size, settings.decode_workers, settings.decoder)
        with _timed(timings, "backbone weights"):
            split, weights = prepare_backbone(settings, ds, source, root)
        with _timed(timings, "feature cache"):
            read = photo_window(tables.article_ids, ds.transactions, cutoff, settings.photo_days)
            features = photo_features(split, settings, source, tables.article_ids, root, read)
    with _timed(timings, "purchase histories"):
        tables = with_purchase_history(tables, ds.transactions, history_start(pairs_train), settings, features)
        scoring_history = scoring_histories(tables, ds.transactions, cutoff)
    fits: dict[str, FitResult] = {}
    models: dict[str, ImageRelevanceModel] = {}
    rows, slice_rows = [], []
    for variant in variants:
        with _timed(timings, f"train {variant}"):
            fits[variant] = train_variant(variant, settings, tables, pairs_train, pairs_valid, features,
                                          tail=clone_tail(split.tail) if variant == "end_to_end" else None,
                                          warm_start=fits.get("frozen_calibrated"), verbose=verbose)
        models[variant] = ImageRelevanceModel(fits[variant].model, settings, tables.article_ids,
                                              image_table(variant, features))
        with _timed(timings, f"evaluate {variant}"):
            rows.append({"variant": variant, **evaluate(models[variant], eval_set),
                         "train_seconds": fits[variant].seconds})
            for name, held in slice_sets.items():
                slice_rows.append({"variant": variant, "slice": name, "negatives": held.candidates.shape[1] - 1,
                                   **evaluate(models[variant], held, scoring_history)})
                log.info("image model: %s on the week after the cut-off, %s: AUC %.4f ± %.4f, HR@10 %.4f (%d buyers)",
                         variant, name, slice_rows[-1]["auc"], slice_rows[-1]["auc_se"], slice_rows[-1]["hr@10"],
                         slice_rows[-1]["customers"])
        log.info("image model: %s: %s", variant,
                 {k: round(v, 4) for k, v in rows[-1].items() if k != "variant"})
    ablation = pl.DataFrame(rows)
    slices = pl.DataFrame(slice_rows) if slice_rows else None
    history = pl.DataFrame([row for v in variants for row in fits[v].history])
    model = models[settings.variant]
    paths = {"model": out_dir / "model", "ablation": out_dir / "ablation.parquet",
             "history": out_dir / "history.parquet", "summary": out_dir / "summary.json"}
    if slices is not None:
        paths["slices"] = out_dir / "slices.parquet"
    with _timed(timings, "save"):
        if scoring_history is not None:
            model.model.set_history(scoring_history)  # the saved model scores the days after the cut-off
        save_model(model, paths["model"], cfg.data_dir, split if model.variant != "no_image" else None, root)
        write_parquet(ablation, paths["ablation"])
        write_parquet(history, paths["history"])
        if slices is not None:
            write_parquet(slices, paths["slices"])
    if model.variant != "no_image":
        with _timed(timings, "image embeddings"):
            embeddings = model.image_embeddings(np.arange(tables.n_articles))
            paths["embeddings"] = write_parquet(embedding_frame(tables.article_ids, embeddings),
                                                out_dir / "article_image_embeddings.parquet")
    probe = None
    if features is not None:
        with _timed(timings, "style probe"):
            probe = style_probe(cfg, ds, tables, features, models,
                                probe_positions(tables.n_articles, settings.probe_articles, settings.seed))
    placeholders = placeholder_counts(features.status) if features is not None else {}
    write_json({"settings": settings.as_dict(), "weights": weights, "placeholders": placeholders,
                "ablation": ablation.to_dicts(), "slices": None if slices is None else slices.to_dicts(),
                "style_probe": None if probe is None else probe.to_dicts(),
                "timings": timings}, paths["summary"])
    return ImageStageResult(settings, model, models, ablation, slices, history, weights, placeholders, probe, tables,
                            features, split, timings, paths)
