"""One typed configuration for the whole chain, with defaults per data scale.

Notebook parameters and command-line options override it through :meth:`Config.replace`,
which also converts strings (paths, dates) to their types.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCALES = ("tiny", "small", "default", "full")


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
        if self.scale not in SCALES:
            raise ValueError(f"unknown scale {self.scale!r}; choose one of {', '.join(SCALES)}")

    @property
    def processed_dir(self) -> Path:
        return self.work_dir / "processed"

    @property
    def truth_dir(self) -> Path:
        return self.work_dir / "synthetic_truth"

    @classmethod
    def for_scale(cls, scale: str = "default", **overrides: Any) -> Config:
        """Defaults for a data scale, then ``overrides``."""
        base = cls(scale=scale, **SCALE_DEFAULTS.get(scale, {}))
        return base.replace(**overrides)

    def replace(self, **overrides: Any) -> Config:
        """A copy with some fields changed; strings become paths and dates; None values are ignored."""
        known = {f.name: f for f in dataclasses.fields(self)}
        changes: dict[str, Any] = {}
        extra = dict(self.extra)
        for name, value in overrides.items():
            if value is None:
                continue
            if name not in known:
                extra[name] = value
                continue
            changes[name] = _coerce(name, value, getattr(self, name))
        changes["extra"] = extra
        return dataclasses.replace(self, **changes)


def _coerce(name: str, value: Any, current: Any) -> Any:
    if name.endswith("_dir"):
        return Path(value)
    if name == "cutoff":
        return value if isinstance(value, dt.date) or value is None else dt.date.fromisoformat(str(value))
    if isinstance(current, bool):
        return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes")
    if isinstance(current, int) and not isinstance(value, bool):
        return int(value)
    return value


SCALE_DEFAULTS: dict[str, dict[str, Any]] = {
    "tiny": {"shard_customers": 200},
    "small": {"shard_customers": 2_000},
    "default": {"shard_customers": 20_000},
    "full": {"shard_customers": 200_000},
}
