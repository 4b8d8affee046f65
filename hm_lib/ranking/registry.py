"""The rankers by name, and a fitted ranker's folder: its files plus ``ranker.json`` naming its kind.

A new ranker is one module (a :class:`~hm_lib.ranking.base.Ranker` subclass, registered here or with
:func:`register`) and one setting (``ranker__model=<name>``).
"""
from __future__ import annotations

from pathlib import Path

from hm_lib.errors import MissingOutputError, SettingError
from hm_lib.io import read_json, write_json
from hm_lib.layout import RANKER_META
from hm_lib.ranking.base import Ranker
from hm_lib.ranking.blend import LightGBMBlend
from hm_lib.ranking.lightgbm import LightGBMRanker
from hm_lib.ranking.lightgbm_dask import DaskLightGBMRanker
from hm_lib.ranking.settings import RankerSettings

RANKERS: dict[str, type[Ranker]] = {cls.name: cls for cls in (LightGBMRanker, DaskLightGBMRanker, LightGBMBlend)}


def register(cls: type[Ranker]) -> type[Ranker]:
    """Make ``cls`` available as ``ranker__model=<cls.name>`` (usable as a class decorator)."""
    RANKERS[cls.name] = cls
    return cls


def ranker_class(name: str) -> type[Ranker]:
    if name not in RANKERS:
        raise SettingError(f"unknown ranker model {name!r}; the rankers are {', '.join(RANKERS)}")
    return RANKERS[name]


def make_ranker(settings: RankerSettings) -> Ranker:
    """An unfitted ranker of ``settings.model``."""
    return ranker_class(settings.model)(settings)


def save_ranker(ranker: Ranker, folder: Path) -> list[Path]:
    """The ranker's files, then ``ranker.json`` (last, so a folder without it holds no finished ranker)."""
    files = ranker.save(Path(folder))
    return [*files, write_json({"model": ranker.name, "files": [p.name for p in files]}, Path(folder) / RANKER_META)]


def load_ranker(folder: Path, settings: RankerSettings) -> Ranker:
    """The ranker :func:`save_ranker` left in ``folder``."""
    meta = Path(folder) / RANKER_META
    if not meta.is_file():
        raise MissingOutputError(f"no fitted ranker in {folder} ({RANKER_META} is missing): run notebooks/06_ranking "
                                 "(hm run --from 06_ranking) first")
    return ranker_class(read_json(meta)["model"]).load(Path(folder), settings)
