"""Product photos as uint8 arrays of one size; a missing or unreadable photo becomes a white image.

Two decoders give the same layout: "pil" (Pillow in a thread pool; JPEGs are decoded at a reduced
DCT scale when much larger than needed, then resized bilinearly) and "tf" (tf.data with parallel
decoding and prefetching, available on the TensorFlow backend). Placeholders are counted and logged,
never raised.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from hm_lib.schema import image_relpath

log = logging.getLogger(__name__)

OK, MISSING, CORRUPT, NOT_READ = 0, 1, 2, 3  # NOT_READ: outside the photo window, the placeholder's features
WHITE = 255  # the paper's placeholder for articles without a photo
_READ_ERRORS = (OSError, ValueError, SyntaxError, Image.DecompressionBombError)


def placeholder(size: tuple[int, int]) -> np.ndarray:
    """A white (height, width, 3) uint8 image."""
    return np.full((size[1], size[0], 3), WHITE, dtype=np.uint8)


def placeholder_counts(status: np.ndarray) -> dict[str, int]:
    return {"images": int(status.size), "missing": int((status == MISSING).sum()),
            "corrupt": int((status == CORRUPT).sum()), "not_read": int((status == NOT_READ).sum())}


def log_placeholders(status: np.ndarray, what: str) -> None:
    """One log line saying how many photos were replaced by a white image, if any."""
    counts = placeholder_counts(status)
    if counts["missing"] or counts["corrupt"]:
        log.warning("image model: %s: %d of %d photos missing and %d unreadable; white placeholders used",
                    what, counts["missing"], counts["images"], counts["corrupt"])


def _read_pil(path: Path, size: tuple[int, int]) -> tuple[np.ndarray, int]:
    if not path.is_file():
        return placeholder(size), MISSING
    try:
        with Image.open(path) as img:
            img.draft("RGB", size)  # JPEG: decode at 1/2, 1/4 or 1/8 scale when that is still >= size
            rgb = img.convert("RGB").resize(size, Image.Resampling.BILINEAR)
            return np.asarray(rgb, dtype=np.uint8), OK
    except _READ_ERRORS:
        return placeholder(size), CORRUPT


@dataclass(frozen=True)
class ImageSource:
    """The photos of a raw data folder (images/0xx/0xxxxxxxxx.jpg), read at ``size`` (width, height)."""

    raw_dir: Path
    size: tuple[int, int]
    workers: int = 4
    decoder: str = "pil"

    def paths(self, article_ids: Sequence[int] | np.ndarray) -> list[Path]:
        return [Path(self.raw_dir) / image_relpath(int(a)) for a in article_ids]

    def states(self, article_ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """(n, 2) int64 modification time (ns) and size of each photo; -1 when it is missing."""
        out = np.full((len(article_ids), 2), -1, dtype=np.int64)
        for i, path in enumerate(self.paths(article_ids)):
            try:
                st = path.stat()
            except OSError:
                continue
            out[i] = st.st_mtime_ns, st.st_size
        return out

    def read(self, article_ids: Sequence[int] | np.ndarray, chunk: int = 512
             ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Chunks of (positions in ``article_ids``, images (m, height, width, 3) uint8, status)."""
        paths = self.paths(article_ids)
        if self.decoder == "tf":
            yield from self._read_tf(paths, chunk)
            return
        with ThreadPoolExecutor(max(1, self.workers)) as pool:
            for lo in range(0, len(paths), chunk):
                got = list(pool.map(lambda p: _read_pil(p, self.size), paths[lo:lo + chunk]))
                yield (np.arange(lo, lo + len(got)), np.stack([g[0] for g in got]),
                       np.array([g[1] for g in got], dtype=np.int8))

    def read_all(self, article_ids: Sequence[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """All images in the order of ``article_ids`` and their status (OK, MISSING, CORRUPT)."""
        w, h = self.size
        images = np.empty((len(article_ids), h, w, 3), dtype=np.uint8)
        status = np.empty(len(article_ids), dtype=np.int8)
        for pos, imgs, st in self.read(article_ids):
            images[pos], status[pos] = imgs, st
        return images, status

    def _read_tf(self, paths: list[Path], chunk: int) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """tf.data: parallel read, decode, resize and prefetch; failures dropped, then given placeholders."""
        import tensorflow as tf

        w, h = self.size
        present = np.array([i for i, p in enumerate(paths) if p.is_file()], dtype=np.int64)

        def load(i: tf.Tensor, path: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
            img = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
            img = tf.image.resize(img, (h, w), method="bilinear", antialias=True)
            return i, tf.cast(tf.clip_by_value(tf.round(img), 0, 255), tf.uint8)

        ds = (tf.data.Dataset.from_tensor_slices((present, [str(paths[i]) for i in present]))
              .map(load, num_parallel_calls=tf.data.AUTOTUNE).ignore_errors()
              .batch(chunk).prefetch(tf.data.AUTOTUNE))
        seen = np.zeros(len(paths), dtype=bool)
        for idx, imgs in ds.as_numpy_iterator():
            seen[idx] = True
            yield idx, imgs, np.full(idx.size, OK, dtype=np.int8)
        status = np.where(np.isin(np.arange(len(paths)), present), CORRUPT, MISSING).astype(np.int8)
        rest = np.flatnonzero(~seen)
        for lo in range(0, rest.size, chunk):
            idx = rest[lo:lo + chunk]
            yield idx, np.stack([placeholder(self.size)] * idx.size), status[idx]
