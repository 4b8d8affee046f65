"""Candidates on disk, one parquet file per customer shard, resumable.

Layout: ``{work_dir}/candidates/cutoff=YYYY-MM-DD/part-NNNN.parquet`` (shard NNNN holds the
NNNN-th block of ``shard_customers`` customers, in customer order) and ``manifest.json``, which
records what the parts were made from: cut-off, settings, sources, shard size, a digest of the
customers served and of the sales before the cut-off. Parts are written atomically; a rerun with
the same manifest keeps the finished parts and computes only the missing ones, a different one
starts over.
"""
from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from hm_lib.candidates.base import CandidateSource
from hm_lib.candidates.generate import fit_sources, propose, source_names
from hm_lib.candidates.past import Past
from hm_lib.candidates.settings import CandidateSettings
from hm_lib.digest import digest
from hm_lib.errors import MissingOutputError
from hm_lib.io import read_json, write_json, write_parquet
from hm_lib.layout import candidates_dir
from hm_lib.progress import bar
from hm_lib.sales import Customers, customer_frame
from hm_lib.schema import ARTICLE, CUSTOMER

if TYPE_CHECKING:
    from hm_lib.cluster import Cluster

FORMAT_VERSION = 1
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class WrittenCandidates:
    """Where the candidates of a cut-off are, and what this call did."""

    path: Path
    shards: int
    written: int  # shards computed by this call
    reused: int   # shards found finished
    customers: int
    rows: int
    seconds: float


def part_path(folder: Path, shard: int) -> Path:
    return folder / f"part-{shard:04d}.parquet"


def _manifest(past: Past, served: pl.Series, settings: CandidateSettings, names: list[str],
              shard_customers: int) -> dict[str, Any]:
    sales = past.transactions.select("t_dat", CUSTOMER, ARTICLE).hash_rows(seed=0).to_numpy()
    return {
        "format_version": FORMAT_VERSION, "cutoff": past.cutoff.isoformat(), "sources": names,
        "settings": settings.as_dict(), "shard_customers": shard_customers,
        "shards": -(-served.len() // shard_customers), "customers": served.len(),
        "customers_digest": digest(served.to_numpy()),
        "sales_digest": f"{past.transactions.height}:{int(sales.sum(dtype=np.uint64))}",
    }


def write_candidates(past: Past, customers: Customers, settings: CandidateSettings, work_dir: str | Path,
                     shard_customers: int, names: Sequence[str] | None = None, progress: bool = True,
                     cluster: Cluster | None = None) -> WrittenCandidates:
    """Generate and write the candidates of ``customers`` for ``past.cutoff``, shard by shard.

    Memory is bounded by one shard's candidates plus the fitted sources; the sources are fitted
    only when a shard is missing. On a ``cluster`` (:mod:`hm_lib.cluster`) each missing shard is a task:
    the fitted sources are sent to every worker once, and each task writes its part (the same bytes).
    """
    start = time.perf_counter()
    served = customer_frame(customers)[CUSTOMER].sort()
    if served.is_empty():
        raise ValueError("no customers to generate candidates for")
    if shard_customers <= 0:
        raise ValueError(f"shard_customers must be positive, got {shard_customers}")
    names = source_names(settings, names)
    folder = candidates_dir(work_dir, past.cutoff)
    manifest = _manifest(past, served, settings, names, shard_customers)
    if not (folder / MANIFEST).is_file() or read_json(folder / MANIFEST) != manifest:
        for stale in [*folder.glob("part-*.parquet"), folder / MANIFEST]:
            stale.unlink(missing_ok=True)
        write_json(manifest, folder / MANIFEST)
    missing = [i for i in range(manifest["shards"]) if not part_path(folder, i).is_file()]
    sources = fit_sources(past, settings, names) if missing else []
    blocks = [(served.slice(shard * shard_customers, shard_customers), part_path(folder, shard)) for shard in missing]
    if cluster is None:
        for block in bar(blocks, desc=f"candidates {past.cutoff}", unit="shard", disable=not progress):
            write_part(block, sources, settings.cap)
    elif blocks:
        cluster.map(write_part, blocks, desc=f"candidates {past.cutoff}", sources=sources, cap=settings.cap)
    rows = read_candidates(work_dir, past.cutoff).select(pl.len()).collect().item()
    return WrittenCandidates(path=folder, shards=manifest["shards"], written=len(missing),
                             reused=manifest["shards"] - len(missing), customers=served.len(), rows=rows,
                             seconds=time.perf_counter() - start)


def write_part(block: tuple[pl.Series, Path], sources: Sequence[CandidateSource], cap: int) -> Path:
    """One shard: the candidates of a block of customers, written atomically to its part file."""
    customers, path = block
    return write_parquet(propose(sources, customers, cap), path)


def read_candidates(work_dir: str | Path, cutoff: dt.date) -> pl.LazyFrame:
    """The candidates written for ``cutoff`` (all shards, in customer order), as a lazy frame."""
    folder = candidates_dir(work_dir, cutoff)
    if not (folder / MANIFEST).is_file():
        raise MissingOutputError(f"no candidates for the cut-off {cutoff} in {folder}: "
                                 "run write_candidates first")
    shards = read_json(folder / MANIFEST)["shards"]
    missing = [i for i in range(shards) if not part_path(folder, i).is_file()]
    if missing:
        raise MissingOutputError(f"the candidates in {folder} are incomplete ({len(missing)} of {shards} "
                                 "shards missing): rerun write_candidates, which computes only the missing ones")
    return pl.scan_parquet([part_path(folder, i) for i in range(shards)])
