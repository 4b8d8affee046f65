"""Training the ensemble's members one after another at the cost of one model's set-up.

Members of a frozen variant (no_image, frozen_pooled, frozen_calibrated) have the same architecture, so
they train in one compiled model on the TensorFlow backend: before each member its variables are
replaced by a freshly initialised model's (seeded per member) and the optimizer's state is zeroed.
The training step is then traced once for all members instead of once per member and padded batch
shape, which at default scale was about a third of the members' time. The JAX trainer keeps its own
copy of the training state between fits (so assigned variables would not take), and end_to_end
members (two phases, each with a backbone tail) differ in structure: both train a separate model per
member, with the same results.
"""
from __future__ import annotations

import time
from typing import Any

import keras
import numpy as np
import polars as pl

from hm_lib.ensemble.scorer import MemberTables
from hm_lib.image_model.backbone import BackboneSplit
from hm_lib.image_model.cache import FeatureTable
from hm_lib.image_model.features import ArticleFeatures
from hm_lib.image_model.model import RelevanceModel
from hm_lib.image_model.scoring import ImageRelevanceModel
from hm_lib.image_model.settings import ImageModelSettings
from hm_lib.image_model.stage import clone_tail
from hm_lib.image_model.tables import ModelTables
from hm_lib.image_model.train import (
    BatchProgress,
    EpochLog,
    batches,
    build_model,
    compile_model,
    image_table,
    train_variant,
)


def reset_optimizer(optimizer: keras.optimizers.Optimizer) -> None:
    """Zero the step count and every slot (moments), keeping the learning rate."""
    for variable in optimizer.variables:
        if not variable.path.endswith("learning_rate"):
            variable.assign(keras.ops.zeros(variable.shape, dtype=variable.dtype))


def restart_from(model: RelevanceModel, fresh: RelevanceModel) -> None:
    """Give ``model`` the initial state of ``fresh`` (same architecture): every variable, seeds included."""
    if len(model.variables) != len(fresh.variables):
        raise ValueError("restart_from needs two models of the same architecture")
    for target, source in zip(model.variables, fresh.variables, strict=True):
        if tuple(target.shape) != tuple(source.shape):
            raise ValueError(f"restart_from: {target.path} {target.shape} vs {source.path} {source.shape}")
        target.assign(keras.ops.convert_to_numpy(source))  # a copy: JAX donates a training model's buffers


class MemberTrainer:
    """Trains members of ``variant`` on their pairs and returns their score tables.

    ``tables`` carry the purchase histories the members train with; ``scoring_history`` (histories
    before the cut-off) gives each member's customer table for scoring the days after it.
    """

    def __init__(self, variant: str, settings: ImageModelSettings, tables: ModelTables,
                 features: ArticleFeatures | None, backbone: BackboneSplit | None, verbose: int = 0,
                 scoring_history: np.ndarray | None = None) -> None:
        self.variant, self.settings, self.tables = variant, settings, tables
        self.features, self.backbone, self.verbose = features, backbone, verbose
        self.scoring_history = scoring_history
        self.image = image_table(variant, features)
        self.model: RelevanceModel | None = None
        self.last: ImageRelevanceModel | None = None  # the member trained last

    def train(self, pairs: pl.DataFrame, seed: int, sample_weights: np.ndarray | None = None
              ) -> tuple[MemberTables, list[dict[str, Any]], float]:
        """(score tables, history per epoch, seconds) of a member trained on ``pairs`` from seed ``seed``."""
        start = time.perf_counter()
        settings = self.settings.replace(seed=seed)
        if self.variant == "end_to_end":
            fit = train_variant(self.variant, settings, self.tables, pairs, pairs.head(0), self.features,
                                tail=clone_tail(self.backbone.tail), verbose=self.verbose,
                                sample_weights=sample_weights, validate=False)
            model, history = fit.model, fit.history
        else:
            keras.utils.set_random_seed(seed)
            fresh = build_model(self.variant, settings, self.tables, self.features)
            if self.model is None or keras.backend.backend() != "tensorflow":
                self.model = fresh
                compile_model(self.model, settings.lr, settings.run_eagerly)
            else:
                restart_from(self.model, fresh)
                reset_optimizer(self.model.optimizer)
            model, history = self.model, []
            model.fit(batches(pairs, self.tables, self.image, settings, False, True, seed, sample_weights),
                      epochs=settings.epochs_frozen, verbose=self.verbose,
                      callbacks=[BatchProgress(f"ensemble member ({self.variant})"),
                                 EpochLog(self.variant, "frozen", settings.epochs_frozen, history)])
        self.last = ImageRelevanceModel(model, settings, self.tables.article_ids, self.image)
        return MemberTables.of(self.last, self.scoring_history), history, time.perf_counter() - start


def image_branch_output(first: ImageRelevanceModel) -> np.ndarray:
    """(articles, d) float16 output of a trained member's image branch (tail and calibration), every article."""
    return first.image_embeddings(np.arange(first.article_ids.size)).astype(np.float16)


def branch_features(features: ArticleFeatures, branch: np.ndarray) -> ArticleFeatures:
    """``features`` with a first member's image-branch output in place of the pooled backbone features.

    Members 2..K train the frozen_pooled variant on it: the backbone tail and the calibration layer,
    most of a step's cost, are trained and run once for the whole ensemble.
    """
    pooled = FeatureTable(branch, np.arange(branch.shape[0]), features.pooled.status, features.pooled.folder)
    return ArticleFeatures(features.article_ids, features.maps, pooled)
