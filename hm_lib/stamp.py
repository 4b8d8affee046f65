"""A stage's "reuse while the inputs match": a JSON stamp written after the outputs it vouches for.

The stamp records the digest of the inputs (:func:`hm_lib.digest.digest`) and whatever the stage
wants to read back. While it records the same digest, the outputs are current and are reused; before
they are redone it is removed first, so a run killed midway redoes them rather than trusting a
half-written folder.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hm_lib.io import read_json, write_json


@dataclass(frozen=True)
class Stamp:
    path: Path

    def current(self, key: str) -> dict[str, Any] | None:
        """The stamp's contents when it records ``key``, else None (absent, or other inputs)."""
        if not self.path.is_file():
            return None
        stored = read_json(self.path)
        return stored if stored.get("digest") == key else None

    def invalidate(self) -> None:
        """Remove the stamp before its outputs are rewritten."""
        self.path.unlink(missing_ok=True)

    def write(self, key: str, **fields: Any) -> Path:
        """Record ``key`` and ``fields`` (atomically), once the outputs are complete."""
        return write_json({"digest": key, **fields}, self.path)
