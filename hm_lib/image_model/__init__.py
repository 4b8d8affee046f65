"""End-to-end image relevance model (after Elsayed, Brinkmeyer and Schmidt-Thieme, 2022), Keras 3.

Item tower: ResNet50 backbone (frozen head, cached once per article; trainable tail) -> pooling ->
Dense(150, relu) calibration, with article id and attribute embeddings -> Dense(k). Customer tower:
customer and attribute embeddings. Score: dot product plus biases, trained with binary cross-entropy
on labelled pairs (hm_lib.negatives). See :func:`run_image_stage` for the whole stage.
"""
from hm_lib.image_model.backbone import (BackboneSplit, WeightsChoice, build_backbone, resolve_weights,
                                         split_backbone)
from hm_lib.image_model.cache import FeatureTable
from hm_lib.image_model.data import PairBatches
from hm_lib.image_model.evaluate import EvalSet, evaluate, ranking_metrics, sample_eval_set
from hm_lib.image_model.features import ArticleFeatures, article_features
from hm_lib.image_model.images import ImageSource, placeholder_counts
from hm_lib.image_model.model import RelevanceModel
from hm_lib.image_model.persist import load_model, save_model
from hm_lib.image_model.plots import plot_neighbour_grid, plot_training_curves
from hm_lib.image_model.probe import linear_probe
from hm_lib.image_model.scoring import ImageRelevanceModel, image_embedding_frame, score_pairs
from hm_lib.image_model.settings import VARIANTS, ImageModelSettings
from hm_lib.image_model.stage import ImageStageResult, run_image_stage
from hm_lib.image_model.tables import ModelTables, model_tables
from hm_lib.image_model.train import FitResult, build_model, train_variant

__all__ = [
    "VARIANTS", "ArticleFeatures", "BackboneSplit", "EvalSet", "FeatureTable", "FitResult",
    "ImageModelSettings",
    "ImageRelevanceModel", "ImageSource", "ImageStageResult", "ModelTables", "PairBatches", "RelevanceModel",
    "WeightsChoice", "article_features", "build_backbone", "build_model", "evaluate", "image_embedding_frame",
    "linear_probe", "load_model", "model_tables", "placeholder_counts", "plot_neighbour_grid",
    "plot_training_curves", "ranking_metrics", "resolve_weights", "run_image_stage", "sample_eval_set",
    "save_model", "score_pairs", "split_backbone", "train_variant",
]
