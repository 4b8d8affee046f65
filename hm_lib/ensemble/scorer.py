"""The ensemble's scores as plain arrays: per member, a vector and bias per customer and per article.

Every member is a two-tower model, so a member's logit for (customer, article) is a dot product of two
table rows plus biases, and the stacker is a Dense layer over the members' logits. Storing the tables
(customers as float16) makes scoring any number of candidate pairs a matter of numpy gathers, without
Keras, the image network or the photos: the ranking stage and the demo read them memory-mapped.
Folder: ``customers.npy`` (K, customers, k + 1), ``items.npy`` (K, articles, k + 1),
``article_ids.npy``, ``scorer.json`` (members' global biases, stacker weights and bias), written last.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from hm_lib import layout
from hm_lib.errors import MissingOutputError
from hm_lib.image_model.tables import article_positions
from hm_lib.io import atomic_path, read_json, write_json
from hm_lib.schema import ARTICLE, CUSTOMER

if TYPE_CHECKING:
    from hm_lib.image_model.scoring import ImageRelevanceModel

RELEVANCE = "relevance"  # the stacked probability, the ranker's feature
FORMAT_VERSION = 1
CUSTOMERS_FILE, ITEMS_FILE, ARTICLES_FILE, META_FILE = ("customers.npy", "items.npy", "article_ids.npy",
                                                         "scorer.json")
CHUNK = 1_000_000
CUSTOMER_BLOCK = 50_000  # customers whose side-by-side vectors are gathered at once (64 MB at K=10, k=32)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return (0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=np.float64)))).astype(np.float32)


@dataclass(frozen=True)
class MemberTables:
    """One member's customer and item tables (vector and, last, bias) and its global bias.

    A customer tower that reads purchase histories gives two customer tables: ``customers`` from the
    histories the member trained with (for its training window's pairs) and ``scoring_customers`` from
    those before the cut-off (for the days after it); without histories they are the same.
    """

    customers: np.ndarray   # (n_customers, k + 1) float16
    items: np.ndarray       # (n_articles, k + 1) float32
    global_bias: float
    scoring_customers: np.ndarray | None = None  # (n_customers, k + 1) float16; None: ``customers``

    @classmethod
    def of(cls, model: ImageRelevanceModel, scoring_history: np.ndarray | None = None) -> MemberTables:
        every = np.arange(model.model.n_customers, dtype=np.int32)
        customers = model.customer_table(every)
        items = model.item_table(np.arange(model.article_ids.size, dtype=np.int32))
        scoring = None
        if scoring_history is not None and model.model.history_length:
            # only customers who bought since the training histories' date have a new vector
            changed = np.flatnonzero((model.history != scoring_history).any(axis=1)).astype(np.int32)
            scoring = customers.copy()
            scoring[changed] = model.customer_table_at(changed, scoring_history)
            scoring = scoring.astype(np.float16)
        return cls(customers.astype(np.float16), items, model.global_bias, scoring)

    @property
    def for_scoring(self) -> MemberTables:
        """The tables that score pairs after the cut-off."""
        if self.scoring_customers is None:
            return self
        return MemberTables(self.scoring_customers, self.items, self.global_bias)

    def logits(self, customers: np.ndarray, positions: np.ndarray) -> np.ndarray:
        c = self.customers[customers].astype(np.float32)
        i = self.items[positions]
        return (np.einsum("ij,ij->i", c[:, :-1], i[:, :-1]) + c[:, -1] + i[:, -1]
                + np.float32(self.global_bias)).astype(np.float32)


@dataclass(frozen=True)
class RelevanceScorer:
    """K members' tables and the stacker (weights over the members' logits, bias)."""

    article_ids: np.ndarray       # sorted; position -> article_id
    customers: np.ndarray         # (K, n_customers, k + 1) float16
    items: np.ndarray             # (K, n_articles, k + 1) float32
    global_bias: np.ndarray       # (K,)
    stack_weights: np.ndarray     # (K,)
    stack_bias: float

    @classmethod
    def from_members(cls, article_ids: np.ndarray, members: list[MemberTables], stack_weights: np.ndarray,
                     stack_bias: float) -> RelevanceScorer:
        members = [m.for_scoring for m in members]
        return cls(np.asarray(article_ids), np.stack([m.customers for m in members]),
                   np.stack([m.items for m in members]), np.array([m.global_bias for m in members], np.float32),
                   np.asarray(stack_weights, np.float32), float(stack_bias))

    @property
    def members(self) -> int:
        return int(self.customers.shape[0])

    def member(self, i: int) -> MemberTables:
        return MemberTables(self.customers[i], self.items[i], float(self.global_bias[i]))

    def _checked(self, customers: np.ndarray) -> np.ndarray:
        """Customer indexes as int64, or a ValueError when one lies outside the tables."""
        customers = np.asarray(customers, dtype=np.int64)
        if customers.size and (customers.min() < 0 or customers.max() >= self.customers.shape[1]):
            raise ValueError(f"customer indexes outside 0..{self.customers.shape[1] - 1}")
        return customers

    def member_logits(self, customers: np.ndarray, article_ids: np.ndarray) -> np.ndarray:
        """(n, K) float32 logits of every member for aligned customer indexes and article ids."""
        customers = self._checked(customers)
        positions = article_positions(self.article_ids, article_ids)
        out = np.empty((customers.size, self.members), dtype=np.float32)
        for lo in range(0, customers.size, CHUNK):
            c, p = customers[lo:lo + CHUNK], positions[lo:lo + CHUNK]
            for i in range(self.members):
                out[lo:lo + CHUNK, i] = self.member(i).logits(c, p)
        return out

    def stack(self, member_logits: np.ndarray) -> np.ndarray:
        """Stacked probability from the members' logits (the Dense layer with its sigmoid)."""
        return sigmoid(member_logits @ self.stack_weights + self.stack_bias)

    @cached_property
    def _side_by_side_items(self) -> tuple[np.ndarray, np.ndarray]:
        """(articles, K x k) every member's item vector side by side, (articles,) their biases through the stacker."""
        items = np.asarray(self.items, dtype=np.float32)
        vectors = np.ascontiguousarray(items[:, :, :-1].transpose(1, 0, 2).reshape(items.shape[1], -1))
        return vectors, items[:, :, -1].T @ self.stack_weights

    def _side_by_side_customers(self, customers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(n, K x k) the customers' member vectors weighted by the stacker, (n,) their biases and the constants."""
        rows = np.asarray(self.customers[:, customers], dtype=np.float32)   # (K, n, k + 1)
        vectors = (rows[:, :, :-1] * self.stack_weights[:, None, None]).transpose(1, 0, 2).reshape(customers.size, -1)
        constant = float(self.stack_weights @ self.global_bias) + self.stack_bias
        return np.ascontiguousarray(vectors), rows[:, :, -1].T @ self.stack_weights + np.float32(constant)

    def stacked_logits(self, customers: np.ndarray, article_ids: np.ndarray) -> np.ndarray:
        """(n,) float32 the stacker's logit (before its sigmoid) for aligned customer indexes and article ids.

        The stacker is linear in the members' logits, and each logit a dot product plus biases, so the
        stacked logit is one dot product of the members' vectors side by side (the customer's weighted by
        the stacker): computed customer by customer over their pairs, it is the same figure as
        :meth:`stack` of :meth:`member_logits` up to rounding, at a fraction of the cost.
        """
        customers = self._checked(customers)
        positions = article_positions(self.article_ids, article_ids)
        order = np.argsort(customers, kind="stable")
        grouped, positions = customers[order], positions[order]
        starts = np.flatnonzero(np.r_[True, grouped[1:] != grouped[:-1]]) if grouped.size else np.zeros(0, int)
        ends = np.r_[starts[1:], grouped.size]
        items, item_bias = self._side_by_side_items
        out = np.empty(grouped.size, dtype=np.float32)
        for lo in range(0, starts.size, CUSTOMER_BLOCK):
            block = slice(lo, lo + CUSTOMER_BLOCK)
            vectors, bias = self._side_by_side_customers(grouped[starts[block]])
            for vector, b, start, end in zip(vectors, bias, starts[block], ends[block], strict=True):
                rows = positions[start:end]
                out[start:end] = np.einsum("ij,j->i", items[rows], vector) + item_bias[rows] + b
        logits = np.empty_like(out)
        logits[order] = out
        return logits

    def score(self, pairs: pl.DataFrame) -> pl.Series:
        """Stacked probability of each (customer, article_id) row, in row order (Float32 ``relevance``)."""
        logits = self.stacked_logits(pairs[CUSTOMER].to_numpy(), pairs[ARTICLE].to_numpy())
        return pl.Series(RELEVANCE, sigmoid(logits), dtype=pl.Float32)

    def save(self, folder: Path) -> Path:
        """Write the tables, then ``scorer.json`` (its presence marks a complete folder)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / META_FILE).unlink(missing_ok=True)
        for name, array in ((CUSTOMERS_FILE, self.customers), (ITEMS_FILE, self.items),
                            (ARTICLES_FILE, self.article_ids)):
            with atomic_path(folder / name, suffix=".npy") as tmp:
                np.save(tmp, array)
        write_json({"format_version": FORMAT_VERSION, "global_bias": self.global_bias.tolist(),
                    "stack_weights": self.stack_weights.tolist(), "stack_bias": self.stack_bias},
                   folder / META_FILE)
        return folder

    @classmethod
    def load(cls, folder: Path) -> RelevanceScorer:
        """Read a scorer folder, its tables memory-mapped."""
        folder = Path(folder)
        if not (folder / META_FILE).is_file():
            raise MissingOutputError(f"no relevance scorer in {folder}: run notebooks/05_ensemble "
                                     "(hm run --from 05_ensemble) first")
        meta = read_json(folder / META_FILE)
        if meta.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"{folder}: scorer format {meta.get('format_version')}, expected {FORMAT_VERSION}")
        return cls(np.load(folder / ARTICLES_FILE), np.load(folder / CUSTOMERS_FILE, mmap_mode="r"),
                   np.load(folder / ITEMS_FILE, mmap_mode="r"), np.array(meta["global_bias"], np.float32),
                   np.array(meta["stack_weights"], np.float32), float(meta["stack_bias"]))


def load_scorer(work_dir: Path, cutoff: dt.date) -> RelevanceScorer:
    """The saved scorer of ``cutoff`` (FileNotFoundError naming the notebook to run when absent)."""
    return RelevanceScorer.load(layout.relevance_dir(work_dir, cutoff))
