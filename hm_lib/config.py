"""One typed configuration for the whole chain, with defaults per data scale.

Notebook parameters and command-line options override it through :meth:`Config.replace`,
which also parses strings (paths, dates) by the fields' types. Each stage has its own typed
settings class with per-scale defaults (e.g. ``NegativeSettings.for_scale``);
:meth:`Config.settings` builds it for the configured scale, applying overrides named
``<section>__<field>`` (``hm run --set negatives__ratio=5``, or a notebook's ``overrides``).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from hm_lib.errors import SettingError

SCALES = ("tiny", "small", "default", "full")
S = TypeVar("S")
# The stage settings that `<section>__<field>` overrides reach: section -> "module:class".
SECTIONS: dict[str, str] = {
    "candidates": "hm_lib.candidates.settings:CandidateSettings",
    "negatives": "hm_lib.negatives.settings:NegativeSettings",
    "image": "hm_lib.image_model.settings:ImageModelSettings",
    "ensemble": "hm_lib.ensemble.settings:EnsembleSettings",
    "ranker": "hm_lib.ranking.settings:RankerSettings",
    "cluster": "hm_lib.cluster:ClusterSettings",
}


# Customers in customers.csv at each scale's upper bound (geometric means of neighbouring scales' sizes:
# 500, 6,000, 60,000 and 1,371,980 customers); the real Kaggle files are "full".
SCALE_BOUNDS = (("tiny", 1_700), ("small", 19_000), ("default", 290_000))


def scale_for(customers: int) -> str:
    """The scale whose settings suit data with this many customers."""
    return next((scale for scale, bound in SCALE_BOUNDS if customers < bound), "full")


def check_scale(scale: str) -> str:
    """`scale` itself, or a SettingError naming the known scales."""
    if scale not in SCALES:
        raise SettingError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
    return scale


def check_settings(name: str, checks: dict[str, bool], detail: str = "") -> None:
    """Raise one SettingError naming every failed check (``message -> ok``) of a settings class ``name``."""
    failed = [message for message, ok in checks.items() if not ok]
    if failed:
        raise SettingError(f"{name}: {'; '.join(failed)}{detail}")


def check_section(section: str) -> str:
    """`section` itself, or a SettingError naming the sections."""
    if section not in SECTIONS:
        raise SettingError(f"unknown settings section {section!r}; the sections are {', '.join(SECTIONS)}")
    return section


def settings_class(section: str) -> type:
    """The settings class of a stage section (imported on demand), or a SettingError naming the sections."""
    module, name = SECTIONS[check_section(section)].split(":")
    return getattr(importlib.import_module(module), name)


def split_override(key: str) -> tuple[str, str]:
    """(section, field) of a ``<section>__<field>`` key, or a SettingError naming what is wrong with it."""
    section, sep, name = key.partition("__")
    if not sep:
        raise SettingError(f"setting {key!r} is not SECTION__FIELD (e.g. negatives__ratio=5)")
    return check_section(section), name


def parse_overrides(texts: Iterable[str]) -> dict[str, str]:
    """``SECTION__FIELD=VALUE`` texts (``--set``) as overrides, checked: sections, fields and values."""
    overrides = {}
    for text in texts:
        key, sep, value = text.partition("=")
        if not sep or "__" not in key:
            raise SettingError(f"--set expects SECTION__FIELD=VALUE (e.g. negatives__ratio=5), got {text!r}")
        overrides[key] = value
    check_overrides(overrides)
    return overrides


def check_overrides(overrides: Mapping[str, Any]) -> None:
    """Raise a SettingError for a ``<section>__<field>`` key whose section or field does not exist, or whose
    value does not parse as the field's type."""
    from hm_lib.settings_base import parse_field  # it imports this module

    for key, value in overrides.items():
        section, name = split_override(key)
        parse_field(settings_class(section), name, value, section)


def check_field(key: str, section: str, fields: Iterable[str]) -> None:
    """A SettingError for an override ``key`` whose field is not among the section's ``fields``."""
    fields = list(fields)
    if key.partition("__")[2] not in fields:
        raise SettingError(f"unknown setting {key!r}; {section} has {', '.join(fields)}")


class ScaledSettings(Protocol[S]):
    """A class with per-scale defaults (a hm_lib.settings_base.StageSettings, or any with for_scale)."""

    @classmethod
    def for_scale(cls, scale: str, **overrides: Any) -> S: ...


@dataclass(frozen=True)
class Config:
    """Where the data lives, which week is predicted, and the knobs of every stage."""

    data_dir: Path = Path("data/raw")
    work_dir: Path = Path("data")
    output_dir: Path = Path("outputs")
    scale: str = "default"
    seed: int = 42
    # First day that is not training data. None: the day after the last transaction.
    cutoff: dt.date | None = None
    # Validation mode: cut off `holdout_days` before the data ends and score those days.
    validate: bool = False
    holdout_days: int = 7
    k: int = 12
    # Customers per shard for work that grows with customers x candidates.
    shard_customers: int = 200_000
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_scale(self.scale)

    @property
    def processed_dir(self) -> Path:
        return self.work_dir / "processed"

    @property
    def truth_dir(self) -> Path:
        """A synthetic world's ground truth: ``{work_dir}/synthetic_truth``, or where ``hm generate --out DIR``
        writes it, beside the raw folder (``DIR/../synthetic_truth``), when the work folder has none."""
        inside, beside = self.work_dir / "synthetic_truth", Path(self.data_dir).parent / "synthetic_truth"
        return beside if not inside.exists() and beside.exists() else inside

    def settings(self, section: str, cls: type[ScaledSettings[S]]) -> S:
        """The settings of one stage for this scale, with this config's `<section>__<field>` overrides.

        Every override must name a known section (else a SettingError); this section's are parsed by type.
        """
        from hm_lib.settings_base import parse_field  # it imports this module

        overrides = {}
        for key, value in self.extra.items():
            key_section, name = split_override(key)
            if key_section == section:
                overrides[name] = parse_field(cls, name, value, section)
        return cls.for_scale(self.scale, **overrides)

    @classmethod
    def for_scale(cls, scale: str = "default", **overrides: Any) -> Config:
        """Defaults for a data scale, then ``overrides``."""
        base = cls(scale=scale, **SCALE_DEFAULTS.get(scale, {}))
        return base.replace(**overrides)

    def replace(self, **overrides: Any) -> Config:
        """A copy with some fields changed, strings parsed by type (paths, dates); None values are ignored.

        Other names are kept in ``extra``: the `<section>__<field>` overrides of :meth:`settings`.
        """
        from hm_lib.settings_base import parse_field  # it imports this module

        known = {f.name for f in dataclasses.fields(self)}
        changes: dict[str, Any] = {}
        extra = dict(self.extra)
        for name, value in overrides.items():
            if value is None:
                continue
            if name not in known:
                extra[name] = value
                continue
            changes[name] = parse_field(Config, name, value)
        changes["extra"] = extra
        return dataclasses.replace(self, **changes)


SCALE_DEFAULTS: dict[str, dict[str, Any]] = {
    "tiny": {"shard_customers": 200},
    "small": {"shard_customers": 2_000},
    "default": {"shard_customers": 20_000},
    "full": {"shard_customers": 200_000},
}
