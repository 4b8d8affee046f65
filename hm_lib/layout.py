"""Where every stage keeps its outputs under the work folder: the one place for the layout, importable
without any stage's heavy dependencies (the demo reads it). A cut-off's outputs:

    {work_dir}/candidates/cutoff=YYYY-MM-DD/   candidate shards and manifest.json (hm_lib.candidates)
    {work_dir}/negatives/cutoff=YYYY-MM-DD/    pairs.parquet and report.json (hm_lib.negatives)
    {work_dir}/relevance/cutoff=YYYY-MM-DD/    the ensemble's scorer and summary.json (hm_lib.ensemble)
    {work_dir}/features/cutoff=YYYY-MM-DD/     article.parquet and customer.parquet (hm_lib.ranking)
    {work_dir}/predictions/cutoff=YYYY-MM-DD/  ranker.parquet, the fitted ranker's files and ranker.json
                                               (hm_lib.ranking)

and, across cut-offs: ``cache/image_model/`` (backbone weights and per-article image features),
``feature_store/`` (Feast: ``offline/{entity}/YYYY-MM-DD.parquet``, registry and online store), ``demo/``
(the app's artefacts) and ``raw_unpacked/`` (the files of a Kaggle zip).
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

STAGES = ("candidates", "negatives", "relevance", "features", "predictions")
RANKER_META = "ranker.json"  # in ranker_dir: the fitted ranker's kind and files, written last


def cutoff_dir(work_dir: str | Path, stage: str, cutoff: dt.date) -> Path:
    """{work_dir}/{stage}/cutoff=YYYY-MM-DD."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage folder {stage!r}; one of {', '.join(STAGES)}")
    return Path(work_dir) / stage / f"cutoff={cutoff.isoformat()}"


def candidates_dir(work_dir: str | Path, cutoff: dt.date) -> Path:
    """A cut-off's candidate shards and their manifest (hm_lib.candidates)."""
    return cutoff_dir(work_dir, "candidates", cutoff)


def negatives_dir(work_dir: str | Path, cutoff: dt.date) -> Path:
    """A cut-off's training pairs and their report (hm_lib.negatives)."""
    return cutoff_dir(work_dir, "negatives", cutoff)


def predictions_path(work_dir: str | Path, cutoff: dt.date) -> Path:
    """The ranker's predictions for a cut-off (the fitted ranker lies beside them, in :func:`ranker_dir`)."""
    return ranker_dir(work_dir, cutoff) / "ranker.parquet"


def ranker_dir(work_dir: str | Path, cutoff: dt.date) -> Path:
    """The folder of a cut-off's fitted ranker (hm_lib.ranking.registry) and its predictions."""
    return cutoff_dir(work_dir, "predictions", cutoff)


def relevance_dir(work_dir: str | Path, cutoff: dt.date) -> Path:
    """The folder of a cut-off's relevance ensemble: its scorer and summary.json (hm_lib.ensemble)."""
    return cutoff_dir(work_dir, "relevance", cutoff)


def features_dir(work_dir: str | Path, cutoff: dt.date) -> Path:
    """The ranking stage's article and customer feature tables of a cut-off."""
    return cutoff_dir(work_dir, "features", cutoff)


def image_cache_dir(work_dir: str | Path) -> Path:
    """The image model's cache: pretrained backbones and per-article features (hm_lib.image_model)."""
    return Path(work_dir) / "cache" / "image_model"


def store_dir(work_dir: str | Path) -> Path:
    """The Feast feature store: registry, online store and offline tables (hm_lib.feature_store)."""
    return Path(work_dir) / "feature_store"


def offline_dir(work_dir: str | Path) -> Path:
    return store_dir(work_dir) / "offline"


def offline_path(work_dir: str | Path, entity: str, cutoff: dt.date) -> Path:
    """The offline table of an entity at a cut-off."""
    return offline_dir(work_dir) / entity / f"{cutoff}.parquet"


def demo_dir(work_dir: str | Path) -> Path:
    """The demo app's artefacts (hm_lib.demo)."""
    return Path(work_dir) / "demo"


def unpacked_dir(work_dir: str | Path) -> Path:
    """Where a Kaggle zip's files are unpacked (hm_lib.archive)."""
    return Path(work_dir) / "raw_unpacked"
