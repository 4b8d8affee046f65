"""One hash for every stage's "reuse while the inputs match": blake2b over a sequence of parts.

A part is bytes, a string, a numpy array (its dtype and shape count too), a polars Series (its physical
values), None (a marker of its own), or anything JSON can write (keys sorted; dates and paths as
strings). Parts are separated, so ("ab", "c") and ("a", "bc") differ.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np
import polars as pl

SEPARATOR = b"\x1f"


class Digest:
    """An incremental digest: ``Digest().add(a, b).add(c).hexdigest()`` equals ``digest(a, b, c)``."""

    def __init__(self, size: int = 16) -> None:
        self._hash = hashlib.blake2b(digest_size=size)

    def add(self, *parts: Any) -> Digest:
        for part in parts:
            self._hash.update(_bytes(part))
            self._hash.update(SEPARATOR)
        return self

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def digest(*parts: Any, size: int = 16) -> str:
    """The hex digest of ``parts`` (see the module docstring), ``size`` bytes long."""
    return Digest(size).add(*parts).hexdigest()


def _bytes(part: Any) -> bytes:
    if isinstance(part, bytes):
        return part
    if isinstance(part, str):
        return part.encode()
    if part is None:
        return b"\x00none"
    if isinstance(part, pl.Series):
        part = part.to_physical().to_numpy()
    if isinstance(part, np.ndarray):
        array = np.ascontiguousarray(part)
        return f"{array.dtype}{array.shape}".encode() + array.tobytes()
    return json.dumps(part, sort_keys=True, default=str).encode()
