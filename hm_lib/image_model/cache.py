"""Per-article backbone features on disk, float16, computed once and reused.

One folder per backbone configuration (a digest of the backbone, input size, decoder, cut point and
weights); inside, ``features.npy`` (rows of features) and ``index.parquet`` (article_id, the photo's
modification time and size, its read status, row). A row is reused while its photo's file state is
unchanged; new or changed photos are computed and appended. Both files are written atomically, the
index last, so a run killed midway recomputes rather than reads half-written rows; a lock file makes
a second process that fills the same folder wait, then reuse what the first computed.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from numpy.lib.format import open_memmap

from hm_lib.digest import digest
from hm_lib.io import atomic_path, file_lock, write_parquet
from hm_lib.progress import bar

log = logging.getLogger(__name__)

FEATURES, INDEX, LOCK = "features.npy", "index.parquet", ".lock"
FLOAT16_MAX = float(np.finfo(np.float16).max)
COPY_ROWS = 4096
# compute(positions) yields (positions, float features, read status) chunks covering those positions
Compute = Callable[[np.ndarray], Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]]


def config_digest(parts: dict[str, Any]) -> str:
    """A short stable hash of a JSON-able description (the cache folder's name)."""
    return digest(parts, size=10)


@dataclass(frozen=True)
class FeatureTable:
    """Features of a list of articles: ``values`` (memory-mapped rows), ``rows`` (article position -> row)."""

    values: np.ndarray
    rows: np.ndarray
    status: np.ndarray  # read status of each article's photo (images.OK, MISSING, CORRUPT, NOT_READ)
    folder: Path

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.values.shape[1:])

    def spread(self, read: np.ndarray, status: int) -> FeatureTable:
        """The table of a whole catalogue from this one of its ``read`` articles (a boolean mask) followed by
        one placeholder row: the other articles take the placeholder's row and ``status``."""
        rows = np.full(read.size, self.rows[-1], dtype=np.int64)
        rows[read] = self.rows[:-1]
        full_status = np.full(read.size, status, dtype=np.int8)
        full_status[read] = self.status[:-1]
        return FeatureTable(self.values, rows, full_status, self.folder)

    def take(self, positions: np.ndarray) -> np.ndarray:
        """float16 features of article positions (a copy, in their order)."""
        rows = self.rows[positions]
        order = np.argsort(rows, kind="stable")  # sorted reads are kinder to a memory map
        out = np.empty((rows.size, *self.shape), dtype=np.float16)
        out[order] = self.values[rows[order]]
        return out


def _read_index(folder: Path) -> pl.DataFrame | None:
    if not (folder / INDEX).is_file() or not (folder / FEATURES).is_file():
        return None
    index = pl.read_parquet(folder / INDEX)
    rows = np.load(folder / FEATURES, mmap_mode="r").shape[0]
    return index if index.is_empty() or int(index["row"].max()) < rows else None


def cached_features(folder: Path, article_ids: np.ndarray, states: np.ndarray, shape: tuple[int, ...],
                    compute: Compute, what: str) -> FeatureTable:
    """Features of ``article_ids`` (photo file states ``states``, (n, 2)): cached rows, the rest computed."""
    with file_lock(folder / LOCK):
        return _cached_features(folder, article_ids, states, shape, compute, what)


def _cached_features(folder: Path, article_ids: np.ndarray, states: np.ndarray, shape: tuple[int, ...],
                     compute: Compute, what: str) -> FeatureTable:
    wanted = pl.DataFrame({"article_id": np.asarray(article_ids, dtype=np.int32),
                           "mtime_ns": states[:, 0], "size": states[:, 1]})
    index = _read_index(folder)
    old_rows = 0 if index is None else int(np.load(folder / FEATURES, mmap_mode="r").shape[0])
    found = (wanted.with_row_index("pos").join(index, on=["article_id", "mtime_ns", "size"], how="left")
             .sort("pos") if index is not None else wanted.with_columns(row=pl.lit(None, pl.Int64),
                                                                          status=pl.lit(None, pl.Int8)))
    rows = found["row"].to_numpy(allow_copy=True)
    status = found["status"].to_numpy(allow_copy=True)
    todo = np.flatnonzero(found["row"].is_null().to_numpy())
    if todo.size:
        log.info("image model: computing %s features of %d articles (%d cached) in %s", what, todo.size,
                 article_ids.size - todo.size, folder)
        rows, status = rows.astype(np.float64), status.astype(np.float64)
        new_rows = old_rows + np.arange(todo.size)
        where = np.full(article_ids.size, -1, dtype=np.int64)
        where[todo] = new_rows
        with atomic_path(folder / FEATURES, suffix=".npy") as tmp:
            out = open_memmap(tmp, mode="w+", dtype=np.float16, shape=(old_rows + todo.size, *shape))
            if old_rows:
                old = np.load(folder / FEATURES, mmap_mode="r")
                for lo in range(0, old_rows, COPY_ROWS):
                    hi = min(old_rows, lo + COPY_ROWS)
                    out[lo:hi] = old[lo:hi]
            with bar(total=todo.size, desc=f"image features ({what})", unit="img") as progress_bar:
                for pos, values, st in compute(todo):
                    out[where[pos]] = np.clip(values, -FLOAT16_MAX, FLOAT16_MAX).astype(np.float16)
                    status[pos] = st
                    progress_bar.update(pos.size)
            out.flush()
            del out
        rows[todo] = new_rows
        added = wanted[todo].with_columns(status=pl.Series(status[todo], dtype=pl.Int8),
                                          row=pl.Series(new_rows, dtype=pl.Int64))
        write_parquet(added if index is None else pl.concat([index, added]), folder / INDEX)
    values = np.load(folder / FEATURES, mmap_mode="r")
    return FeatureTable(values, rows.astype(np.int64), status.astype(np.int8), folder)
