"""Saving and loading a trained image relevance model.

A model folder holds ``relevance.keras`` (the Keras model, lookup tables included), ``model.json``
(settings, variant, raw data folder, backbone cut) and ``articles.parquet`` (article positions and, with a photo window, whose photos were read); image
variants also hold ``backbone.weights.h5``, from which the cached features are found again (same
digest) or recomputed for new or changed photos. Every file is written atomically.
"""
from __future__ import annotations

from pathlib import Path

import keras
import polars as pl

from hm_lib.image_model.backbone import BackboneSplit, build_backbone, split_backbone
from hm_lib.image_model.features import photo_features
from hm_lib.image_model.images import ImageSource
from hm_lib.image_model.model import RelevanceModel
from hm_lib.image_model.scoring import ImageRelevanceModel
from hm_lib.image_model.settings import ImageModelSettings
from hm_lib.image_model.train import image_table
from hm_lib.io import atomic_path, read_json, write_json, write_parquet
from hm_lib.schema import ARTICLE

FORMAT_VERSION = 1
KERAS_FILE, CONFIG_FILE, ARTICLES_FILE, BACKBONE_FILE = ("relevance.keras", "model.json", "articles.parquet",
                                                         "backbone.weights.h5")
PHOTO_READ = "photo_read"


def save_model(model: ImageRelevanceModel, folder: Path, raw_dir: Path, split: BackboneSplit | None,
               cache_root: Path) -> Path:
    """Write the model folder; ``split`` (the backbone) is needed for image variants."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_path(folder / KERAS_FILE) as tmp:
        model.model.save(tmp)
    articles = pl.DataFrame({ARTICLE: pl.Series(model.article_ids, dtype=pl.Int32)})
    if model.read is not None:  # the photo window: which articles' photos the image features come from
        articles = articles.with_columns(pl.Series(PHOTO_READ, model.read))
    write_parquet(articles, folder / ARTICLES_FILE)
    if model.variant != "no_image":
        if split is None:
            raise ValueError("an image variant is saved with its backbone")
        with atomic_path(folder / BACKBONE_FILE, suffix=".weights.h5") as tmp:
            split.backbone.save_weights(tmp)
    write_json({"format_version": FORMAT_VERSION, "variant": model.variant,
                "settings": model.settings.as_dict(),
                "raw_dir": str(Path(raw_dir).resolve()), "cache_root": str(Path(cache_root).resolve()),
                "cut_layer": None if split is None else split.cut_layer}, folder / CONFIG_FILE)
    return folder


def load_model(folder: Path, raw_dir: Path | None = None,
               cache_root: Path | None = None) -> ImageRelevanceModel:
    """Read a model folder; image features come from the cache or are recomputed from the photos."""
    folder = Path(folder)
    config = read_json(folder / CONFIG_FILE)
    if config.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{folder}: model format {config.get('format_version')}, expected {FORMAT_VERSION}")
    settings = ImageModelSettings.from_dict(config["settings"])
    keras_model: RelevanceModel = keras.saving.load_model(folder / KERAS_FILE, compile=False)
    articles = pl.read_parquet(folder / ARTICLES_FILE)
    article_ids = articles[ARTICLE].to_numpy().astype("int64")
    read = articles[PHOTO_READ].to_numpy() if PHOTO_READ in articles.columns else None
    image = None
    if keras_model.variant != "no_image":
        backbone = build_backbone(settings, weights_path=folder / BACKBONE_FILE)
        split = split_backbone(backbone, settings.trainable_from)
        source = ImageSource(Path(raw_dir or config["raw_dir"]), settings.image_size, settings.decode_workers,
                             settings.decoder)
        root = Path(cache_root or config["cache_root"])
        features = photo_features(split, settings, source, article_ids, root, read)
        image = image_table(keras_model.variant, features)
    return ImageRelevanceModel(keras_model, settings, article_ids, image)
