"""Training the relevance model on labelled pairs, in the paper's two phases.

Phase 1 ("frozen"): the image network is frozen, so its pooled features are read from the cache and
only the towers and the calibration layer train (this is the frozen variants' whole training).
Phase 2 ("finetune", end_to_end only): the phase-1 model's weights are copied into a model that
runs the backbone's trainable tail on the cached head features, and everything trains together at
a lower learning rate, on batches grouped by article.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np
import polars as pl

from hm_lib.image_model.cache import FeatureTable
from hm_lib.image_model.data import PairBatches
from hm_lib.image_model.features import ArticleFeatures
from hm_lib.image_model.model import RelevanceModel, copy_shared_weights
from hm_lib.image_model.settings import ImageModelSettings
from hm_lib.image_model.tables import ModelTables
from hm_lib.progress import bar
from hm_lib.schema import ARTICLE, CUSTOMER

log = logging.getLogger(__name__)
LABEL = "label"


@dataclass
class FitResult:
    """A trained model and its history per epoch (variant, phase, epoch, loss, auc, val_*, seconds)."""

    variant: str
    model: RelevanceModel
    history: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0


def image_table(variant: str, features: ArticleFeatures | None) -> FeatureTable | None:
    """The cached input of a variant's image branch: none, pooled features, or the head's feature maps."""
    if variant == "no_image":
        return None
    if features is None:
        raise ValueError(f"variant {variant!r} needs image features")
    return features.maps if variant == "end_to_end" else features.pooled


def build_model(variant: str, settings: ImageModelSettings, tables: ModelTables,
                features: ArticleFeatures | None = None, tail: keras.Model | None = None) -> RelevanceModel:
    """An untrained model of ``variant`` with its lookup tables filled."""
    image_dim = 0 if variant == "no_image" or features is None else features.pooled.shape[-1]
    history_image = tables.history_image if image_dim and tables.history_length else None
    model = RelevanceModel(variant, tables.n_customers, tables.n_articles, tables.customer_cards,
                           tables.article_cards, k=settings.k, id_dim=settings.id_dim,
                           calibration_units=settings.calibration_units, image_dim=image_dim, l2=settings.l2,
                           image_dropout=settings.image_dropout,
                           tail=tail if variant == "end_to_end" else None, history_length=tables.history_length,
                           history_image_dim=0 if history_image is None else history_image.shape[1],
                           customer_ids=settings.customer_ids, id_dropout=settings.id_dropout,
                           name=f"relevance_{variant}")
    model(model.dummy_inputs())  # create every weight now, so that weights can be copied in
    stats = features.pooled_stats if image_dim else (None, None)
    model.set_tables(tables.customer_codes, tables.article_codes, *stats)
    if tables.history_length:
        model.set_history(tables.history, history_image)
    if tables.article_seen is not None:
        model.set_seen(tables.article_seen)
    return model


def pair_arrays(pairs: pl.DataFrame, tables: ModelTables) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(customer indexes, article positions, labels) of a pairs frame."""
    customers = pairs[CUSTOMER].to_numpy().astype(np.int32)
    if customers.size and (customers.min() < 0 or customers.max() >= tables.n_customers):
        raise ValueError(f"pairs hold customer indexes outside 0..{tables.n_customers - 1}")
    return customers, tables.positions(pairs[ARTICLE]), pairs[LABEL].to_numpy().astype(np.float32)


def batches(pairs: pl.DataFrame, tables: ModelTables, image: FeatureTable | None, settings: ImageModelSettings,
            grouped: bool, shuffle: bool, seed: int, sample_weights: np.ndarray | None = None) -> PairBatches:
    customers, articles, labels = pair_arrays(pairs, tables)
    return PairBatches(customers, articles, labels, image, settings.batch_size,
                       group_articles=settings.group_articles if grouped else None, shuffle=shuffle, seed=seed,
                       sample_weights=sample_weights)


class EpochLog(keras.callbacks.Callback):
    """Records each epoch's metrics and time, and logs them."""

    def __init__(self, variant: str, phase: str, epochs: int, rows: list[dict[str, Any]]) -> None:
        super().__init__()
        self.variant, self.phase, self.epochs, self.rows = variant, phase, epochs, rows
        self.start = time.perf_counter()

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        row = {"variant": self.variant, "phase": self.phase, "epoch": epoch + 1,
               **{k: float(v) for k, v in (logs or {}).items()}, "seconds": time.perf_counter() - self.start}
        self.rows.append(row)
        log.info("image model: %s, %s phase, epoch %d/%d: loss %.4f, val_loss %.4f, val_auc %.4f (%.0f s)",
                 self.variant, self.phase, epoch + 1, self.epochs, row.get("loss", np.nan),
                 row.get("val_loss", np.nan), row.get("val_auc", np.nan), row["seconds"])


class BatchProgress(keras.callbacks.Callback):
    """A progress bar over each epoch's batches (:func:`hm_lib.progress.bar`): an epoch can take minutes."""

    def __init__(self, desc: str) -> None:
        super().__init__()
        self.desc, self.bar = desc, None

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        epochs = self.params.get("epochs")
        self.bar = bar(total=self.params.get("steps"), desc=f"{self.desc}, epoch {epoch + 1}/{epochs}",
                       unit="batch")

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self.bar is not None:
            self.bar.update(1)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def compile_model(model: RelevanceModel, lr: float, eager: bool = False) -> None:
    """Adam at ``lr``, binary cross-entropy on logits, AUC; ``eager`` runs the steps without a traced graph."""
    # padded rows have weight 0: average over the real rows, so short (grouped) batches count fully
    loss = keras.losses.BinaryCrossentropy(from_logits=True, reduction="mean_with_sample_weight")
    model.compile(optimizer=keras.optimizers.Adam(lr), loss=loss,
                  weighted_metrics=[keras.metrics.AUC(from_logits=True, name="auc")], run_eagerly=eager)


def fit_phase(model: RelevanceModel, train: PairBatches, valid: PairBatches | None, epochs: int, lr: float,
              phase: str, history: list[dict[str, Any]], verbose: int = 0, eager: bool = False) -> None:
    compile_model(model, lr, eager)
    model.fit(train, validation_data=valid, epochs=epochs, verbose=verbose,
              callbacks=[BatchProgress(f"{model.variant}, {phase} phase"),
                         EpochLog(model.variant, phase, epochs, history)])


def customer_sample(pairs: pl.DataFrame, limit: int | None, seed: int) -> pl.DataFrame:
    """Every pair of at most ``limit`` customers (a seeded draw; all pairs when there are no more), in row order.

    Sampling whole customers keeps each one's positives with the negatives drawn for them, as the ranker's
    sampled buyers do; at full scale it bounds the image model's and the ensemble's training time.
    """
    customers = np.unique(pairs[CUSTOMER].to_numpy())
    if limit is None or customers.size <= limit:
        return pairs
    chosen = np.random.default_rng(seed).choice(customers, size=limit, replace=False)
    log.info("image model: training on the pairs of %d of %d customers (train_customers)", limit, customers.size)
    return pairs.filter(pl.col(CUSTOMER).is_in(pl.Series(chosen, dtype=pairs[CUSTOMER].dtype)))


def valid_sample(pairs: pl.DataFrame, settings: ImageModelSettings) -> pl.DataFrame:
    if pairs.height <= settings.valid_pairs:
        return pairs
    return pairs.sample(settings.valid_pairs, seed=settings.seed)


def train_variant(variant: str, settings: ImageModelSettings, tables: ModelTables, pairs_train: pl.DataFrame,
                  pairs_valid: pl.DataFrame, features: ArticleFeatures | None = None,
                  tail: keras.Model | None = None, warm_start: FitResult | None = None,
                  verbose: int = 0, sample_weights: np.ndarray | None = None, validate: bool = True) -> FitResult:
    """Train one variant; end_to_end continues from ``warm_start`` (a frozen_calibrated fit) or trains one.

    ``FitResult.seconds`` of end_to_end counts both phases. ``sample_weights`` (one per training pair,
    e.g. class weights) weight the training loss; validation pairs weigh 1. ``validate=False`` skips the
    validation pass after each epoch (no val_* in the history).
    """
    valid = valid_sample(pairs_valid, settings) if validate else None
    if variant == "end_to_end":
        if tail is None:
            raise ValueError("end_to_end needs the backbone's tail")
        first = warm_start or train_variant("frozen_calibrated", settings, tables, pairs_train, pairs_valid,
                                            features, verbose=verbose, sample_weights=sample_weights,
                                            validate=validate)
        start = time.perf_counter()
        keras.utils.set_random_seed(settings.seed)
        model = build_model(variant, settings, tables, features, tail)
        if copy_shared_weights(first.model, model) != len(first.model.weights):
            raise RuntimeError("phase 2 must start from every weight of phase 1")
        history = [{**row, "variant": variant} for row in first.history]
        maps = image_table(variant, features)
        fit_phase(model, batches(pairs_train, tables, maps, settings, True, True, settings.seed, sample_weights),
                  None if valid is None else batches(valid, tables, maps, settings, True, False, settings.seed),
                  settings.epochs_finetune, settings.lr_finetune, "finetune", history, verbose, settings.run_eagerly)
        return FitResult(variant, model, history, first.seconds + time.perf_counter() - start)
    start = time.perf_counter()
    keras.utils.set_random_seed(settings.seed)
    model = build_model(variant, settings, tables, features)
    image = image_table(variant, features)
    history: list[dict[str, Any]] = []
    fit_phase(model, batches(pairs_train, tables, image, settings, False, True, settings.seed, sample_weights),
              None if valid is None else batches(valid, tables, image, settings, False, False, settings.seed),
              settings.epochs_frozen, settings.lr, "frozen", history, verbose, settings.run_eagerly)
    return FitResult(variant, model, history, time.perf_counter() - start)
