"""Photo descriptors for the look-alike source: one row per article, cached, read only when a photo source runs."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
from conftest import WorldDirs

from hm_lib.candidates import CandidateSettings, past_at
from hm_lib.config import Config
from hm_lib.data import Dataset
from hm_lib.image_model.descriptors import photo_descriptors
from hm_lib.image_model.features import photo_window
from hm_lib.image_model.settings import ImageModelSettings
from hm_lib.schema import ARTICLE


def config(world: WorldDirs, tmp_path: Path, **overrides: str) -> Config:
    return world.config(image__cache_dir=str(tmp_path / "cache"), **overrides)


def test_the_past_has_photos_only_when_a_photo_source_runs(tiny_world: WorldDirs, tiny_data: Dataset,
                                                           tmp_path: Path) -> None:
    cutoff = tiny_data.end_date - dt.timedelta(days=6)
    assert past_at(config(tiny_world, tmp_path), tiny_data, cutoff).photos is None  # not a default source
    cfg = config(tiny_world, tmp_path, candidates__sources="repurchase,look_alike")
    assert cfg.settings("candidates", CandidateSettings).sources == ("repurchase", "look_alike")
    past = past_at(cfg, tiny_data, cutoff)
    assert past.photos is not None and past.photos.shape[0] == past.n_articles
    assert past.photos.dtype == np.float16 and np.isfinite(past.photos.astype(np.float32)).all()
    has = np.abs(past.photos.astype(np.float32)).sum(axis=1) > 0
    window = photo_window(past.articles[ARTICLE].to_numpy(), tiny_data.transactions, cutoff,
                          CandidateSettings.for_scale("tiny").new_arrivals_history_days)
    assert window is not None and not (has & ~window).any()  # only the photos the source can use are read
    assert has[window].mean() > 0.9 and 0 < window.sum() < window.size
    again = past_at(cfg, tiny_data, cutoff)  # from the cache, in a second call
    assert again.photos is not None and again.photos.tobytes() == past.photos.tobytes()
    assert len(list((tmp_path / "cache").glob("descriptors-*"))) == 1


def test_articles_outside_the_mask_or_without_a_photo_get_zeros(tiny_world: WorldDirs, tiny_data: Dataset,
                                                               tmp_path: Path) -> None:
    settings = ImageModelSettings.for_scale("tiny")
    ids = tiny_data.articles[ARTICLE].to_numpy()[:6]
    missing = np.append(ids, 999_999_999)  # no such photo
    read = np.array([True, False, True, True, True, True, True])
    got = photo_descriptors(tiny_world.raw, missing, settings, tmp_path, read)
    assert got.shape[0] == 7
    norms = np.abs(got.astype(np.float32)).sum(axis=1)
    assert norms[1] == 0 and norms[6] == 0 and (norms[[0, 2, 3, 4, 5]] > 0).all()
    whole = photo_descriptors(tiny_world.raw, ids, settings, tmp_path)
    assert whole[[0, 2]].tobytes() == got[[0, 2]].tobytes()  # the same photo, the same row

