"""Sparse-matrix building blocks of the sources: interaction matrices, row scaling, top k per row."""
from __future__ import annotations

import numpy as np
import polars as pl
import scipy.sparse as sp

from hm_lib.candidates.base import SOURCE_SCHEMA
from hm_lib.schema import ARTICLE, CUSTOMER, RANK, SCORE

BATCH_ROWS = 20_000  # customers per sparse product: bounds the memory of one product


def matrix(df: pl.DataFrame, row: str, col: str, shape: tuple[int, int], value: pl.Expr | None = None
           ) -> sp.csr_matrix:
    """CSR float32 matrix of summed ``value`` (default: 1 per row of ``df``) at (``row``, ``col``)."""
    agg = df.group_by(row, col).agg((pl.len() if value is None else value.sum()).cast(pl.Float32).alias("_v"))
    m = sp.csr_matrix((agg["_v"].to_numpy(), (agg[row].to_numpy(), agg[col].to_numpy())), shape=shape,
                      dtype=np.float32)
    m.sort_indices()
    return m


def scale_rows(m: sp.csr_matrix, factors: np.ndarray) -> sp.csr_matrix:
    """Multiply row i by ``factors[i]``."""
    out = m.copy()
    out.data *= np.repeat(factors.astype(np.float32), np.diff(m.indptr))
    return out


def scale_columns(m: sp.csr_matrix, factors: np.ndarray) -> sp.csr_matrix:
    """Multiply column j by ``factors[j]``."""
    out = m.copy()
    out.data *= factors.astype(np.float32)[m.indices]
    return out


def l2_normalize_rows(m: sp.csr_matrix) -> sp.csr_matrix:
    """Rows scaled to unit length (empty rows stay empty)."""
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    return scale_rows(m, np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0))


def _top_positions(m: sp.csr_matrix, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Row index and position in ``m.data`` of each row's ``k`` largest entries, best first.

    Ties go to the smaller column index; rows come in order.
    """
    rows = np.repeat(np.arange(m.shape[0], dtype=np.int32), np.diff(m.indptr))
    order = (
        pl.DataFrame({"r": rows, "v": m.data, "c": m.indices, "i": np.arange(m.nnz, dtype=np.int64)})
        .sort(["r", "v", "c"], descending=[False, True, False])
    )
    r = order["r"].to_numpy()
    nth = np.arange(r.size) - m.indptr[r]
    keep = nth < k
    return r[keep], order["i"].to_numpy()[keep]


def top_k_per_row(m: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """``m`` with only each row's ``k`` largest entries kept."""
    m = m.tocsr()
    m.eliminate_zeros()
    rows, idx = _top_positions(m, k)
    return sp.csr_matrix((m.data[idx], (rows, m.indices[idx])), shape=m.shape, dtype=m.dtype)


def top_k_frame(scores: sp.csr_matrix, customers: np.ndarray, article_ids: np.ndarray, k: int
                ) -> pl.DataFrame:
    """The ``k`` best columns of each row as customer, article_id, score, rank; row i is ``customers[i]``."""
    scores = scores.tocsr()
    scores.eliminate_zeros()
    rows, idx = _top_positions(scores, k)
    return _ranked_rows(rows, scores.indices[idx], scores.data[idx], customers, article_ids)


def _ranked_rows(rows: np.ndarray, cols: np.ndarray, values: np.ndarray, customers: np.ndarray,
                 article_ids: np.ndarray) -> pl.DataFrame:
    """Rows of :data:`SOURCE_SCHEMA` from (row, column, score) entries in row order, best first within a row."""
    nth = np.arange(rows.size) - np.searchsorted(rows, rows)
    return pl.DataFrame({
        CUSTOMER: pl.Series(customers[rows], dtype=pl.Int32),
        ARTICLE: pl.Series(article_ids[cols], dtype=pl.Int32),
        SCORE: pl.Series(values, dtype=pl.Float32),
        RANK: pl.Series(nth + 1, dtype=pl.Int16),
    })


def rows_with_entries(m: sp.csr_matrix, customers: pl.Series) -> np.ndarray:
    """The sorted ``customers`` that are rows of ``m`` holding at least one entry."""
    ids = np.sort(customers.to_numpy().astype(np.int64))
    ids = ids[(ids >= 0) & (ids < m.shape[0])]
    return ids[np.diff(m.indptr)[ids] > 0]


def top_k_products(left: sp.csr_matrix, right: sp.csr_matrix, customers: np.ndarray, article_ids: np.ndarray,
                   k: int, dense: bool = False) -> pl.DataFrame:
    """:func:`top_k_frame` of ``left @ right``, computed ``BATCH_ROWS`` rows at a time. ``dense``: for a product
    that is nearly dense (``right`` has few columns, e.g. a pool of articles), each batch is ranked as a dense
    array (:func:`top_k_dense`), with the same rows."""
    def top(batch: sp.csr_matrix, ids: np.ndarray) -> pl.DataFrame:
        return top_k_dense(batch.toarray(), ids, article_ids, k) if dense else top_k_frame(batch, ids, article_ids, k)

    parts = [top(left[lo:lo + BATCH_ROWS] @ right, customers[lo:lo + BATCH_ROWS])
             for lo in range(0, left.shape[0], BATCH_ROWS)]
    return pl.concat(parts) if parts else pl.DataFrame(schema=SOURCE_SCHEMA)


def top_k_dense(scores: np.ndarray, customers: np.ndarray, article_ids: np.ndarray, k: int) -> pl.DataFrame:
    """:func:`top_k_frame` of a dense score matrix (the same rows: positive entries only, ties to the smaller
    column), by a partition per row instead of a sort of every entry."""
    k = min(k, scores.shape[1])
    if k == 0 or scores.shape[0] == 0:
        return pl.DataFrame(schema=SOURCE_SCHEMA)
    kth = -np.partition(-scores, k - 1, axis=1)[:, k - 1:k]  # each row's k-th largest value
    above = scores > kth
    ties = (scores == kth) & (np.cumsum(scores == kth, axis=1) <= k - above.sum(axis=1, keepdims=True))
    rows, cols = np.nonzero((above | ties) & (scores > 0))
    values = scores[rows, cols]
    order = np.lexsort((cols, -values, rows))
    return _ranked_rows(rows[order], cols[order], values[order], customers, article_ids)
