"""The candidate stage's past with the photos it needs: descriptors for the look-alike source, when it runs.

Kept apart from the sources so that the candidate stage imports Keras only when a photo source is asked for
(``candidates__sources``) and the data folder has an ``images`` folder.
"""
from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from hm_lib.candidates.past import Past
from hm_lib.candidates.settings import CandidateSettings
from hm_lib.config import Config
from hm_lib.data import Dataset
from hm_lib.schema import IMAGES_DIR

log = logging.getLogger(__name__)
PHOTO_SOURCES = ("look_alike",)


def wants_photos(settings: CandidateSettings) -> bool:
    """Whether a source that reads photo descriptors runs."""
    return any(name in PHOTO_SOURCES for name in settings.sources)


def past_at(cfg: Config, ds: Dataset, cutoff: dt.date, settings: CandidateSettings | None = None) -> Past:
    """:meth:`Past.from_dataset` at ``cutoff``, with photo descriptors of the articles sold in the look-alike
    history (or never) when a photo source runs and the photos are there."""
    settings = settings or cfg.settings("candidates", CandidateSettings)
    past = Past.from_dataset(ds, cutoff)
    if not wants_photos(settings):
        return past
    photos_dir = Path(cfg.data_dir) / IMAGES_DIR
    if not photos_dir.is_dir():
        log.warning("candidates: no %s folder, so no photo descriptors", photos_dir)
        return past
    from hm_lib.image_model.descriptors import catalogue_descriptors
    from hm_lib.image_model.settings import ImageModelSettings
    from hm_lib.image_model.stage import cache_root

    image = cfg.settings("image", ImageModelSettings)
    photos = catalogue_descriptors(Path(cfg.data_dir), past.articles, ds.transactions, cutoff,
                                   settings.new_arrivals_history_days, image, cache_root(cfg, image))
    return past.with_photos(photos)
