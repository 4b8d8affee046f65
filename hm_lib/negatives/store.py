"""The pairs of a cut-off, written once to {work_dir}/negatives/cutoff=YYYY-MM-DD/ and reused.

``pairs.parquet`` holds the pairs, ``report.json`` the digest of what they were drawn from (the
window's positives, the articles' categories, the cut-off, the settings, the seed) and the report.
The report is written last, so a run killed midway is redone next time.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from hm_lib import layout
from hm_lib.config import Config
from hm_lib.data import Dataset
from hm_lib.digest import digest
from hm_lib.io import write_parquet
from hm_lib.negatives.sampling import CATEGORY, DAY, NegativeReport, WindowInputs, draw_pairs, window_inputs
from hm_lib.negatives.settings import NegativeSettings
from hm_lib.schema import ARTICLE, CUSTOMER
from hm_lib.stamp import Stamp

log = logging.getLogger(__name__)

FORMAT_VERSION = 1  # bump when the draw changes, so stored pairs are redrawn
PAIRS_FILE = "pairs.parquet"
REPORT_FILE = "report.json"


@dataclass(frozen=True)
class NegativePairs:
    """The pairs of one cut-off, their report, and the file they are stored in."""

    pairs: pl.DataFrame
    report: NegativeReport
    path: Path


def inputs_digest(inputs: WindowInputs, cutoff: dt.date, settings: NegativeSettings, seed: int) -> str:
    """A hash of everything the draw depends on (the positives are sorted, so their bytes are stable).

    The validation settings are left out: the split is made when the pairs are read, not stored.
    """
    drawing = sorted((k, v) for k, v in settings.as_dict().items() if not k.startswith("validation_"))
    return digest(FORMAT_VERSION, str(cutoff), seed, drawing, *(inputs.positives[c] for c in (CUSTOMER, ARTICLE, DAY)),
                  inputs.categories[ARTICLE], "\x1f".join(inputs.categories[CATEGORY].to_list()))


def build_pairs(cfg: Config, ds: Dataset, cutoff: dt.date, settings: NegativeSettings | None = None,
                force: bool = False) -> NegativePairs:
    """The pairs of the window before ``cutoff``: read back if drawn before from the same inputs."""
    start = time.perf_counter()
    settings = settings or cfg.settings("negatives", NegativeSettings)
    inputs = window_inputs(ds.transactions, ds.articles, cutoff, settings)
    key = inputs_digest(inputs, cutoff, settings, cfg.seed)
    folder = layout.negatives_dir(cfg.work_dir, cutoff)
    path, stamp = folder / PAIRS_FILE, Stamp(folder / REPORT_FILE)
    stored = None if force else stamp.current(key)
    if stored is not None and path.is_file():
        log.info("negatives: %s is up to date, reusing it", path)
        pairs = pl.read_parquet(path)
        report = NegativeReport.from_json(stored["report"], rebuilt=False)
        return NegativePairs(pairs, dataclasses.replace(report, seconds=time.perf_counter() - start), path)
    stamp.invalidate()
    pairs, report = draw_pairs(inputs, cutoff, settings, cfg.seed)
    write_parquet(pairs, path)
    report = dataclasses.replace(report, seconds=time.perf_counter() - start)
    stamp.write(key, format_version=FORMAT_VERSION, seed=cfg.seed, settings=settings.as_dict(),
                report=report.to_json())
    log.info("negatives: %d pairs written to %s in %.1f s", pairs.height, path, report.seconds)
    return NegativePairs(pairs, report, path)
