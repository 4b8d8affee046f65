"""Writing a synthetic world in the exact raw competition format, atomically."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl

from hm_lib import schema
from hm_lib.io import atomic_path
from hm_lib.progress import bar

CSV_CHUNK_ROWS = 2_000_000
EPOCH = dt.date(1970, 1, 1)


def article_frame(table: pl.DataFrame) -> pl.DataFrame:
    """articles.csv columns as strings where the real file zero-pads them."""
    return table.select(schema.ARTICLE_COLUMNS).with_columns(
        pl.col("article_id").cast(pl.Utf8).str.zfill(schema.ARTICLE_ID_DIGITS),
        pl.col("product_code").cast(pl.Utf8).str.zfill(schema.PRODUCT_CODE_DIGITS),
        pl.when(pl.col("colour_group_code") >= 0)
        .then(pl.col("colour_group_code").cast(pl.Utf8).str.zfill(schema.COLOUR_CODE_DIGITS))
        .otherwise(pl.col("colour_group_code").cast(pl.Utf8)),
    )


def write_articles(table: pl.DataFrame, out_dir: Path) -> Path:
    path = out_dir / schema.ARTICLES_FILE
    with atomic_path(path) as tmp:
        article_frame(table).write_csv(tmp)
    return path


def write_customers(table: pl.DataFrame, out_dir: Path) -> Path:
    path = out_dir / schema.CUSTOMERS_FILE
    with atomic_path(path) as tmp:
        table.select(schema.CUSTOMER_COLUMNS).write_csv(tmp)
    return path


def transaction_order(rows: dict[str, np.ndarray], customer_ids: np.ndarray) -> np.ndarray:
    """Row order of the real file: by day, then by customer id (hex order), stable otherwise."""
    hex_rank = np.empty(customer_ids.size, dtype=np.int64)
    hex_rank[np.argsort(customer_ids, kind="stable")] = np.arange(customer_ids.size)
    return np.lexsort((hex_rank[rows["customer"]], rows["day"]))


def transactions_frame(rows: dict[str, np.ndarray], idx: np.ndarray, start: dt.date,
                       customer_ids: pl.Series, article_ids: np.ndarray) -> pl.DataFrame:
    """The five raw columns for the rows `idx` (in that order)."""
    return pl.DataFrame({
        "t_dat": pl.Series(rows["day"][idx].astype(np.int32) + (start - EPOCH).days).cast(pl.Date),
        "customer_id": customer_ids.gather(rows["customer"][idx]),
        "article_id": pl.Series(article_ids[rows["article"][idx]]).cast(pl.Utf8).str.zfill(schema.ARTICLE_ID_DIGITS),
        "price": np.round(rows["price"][idx].astype(np.float64), 16),
        "sales_channel_id": rows["channel"][idx].astype(np.int64),
    }).with_columns(pl.col("t_dat").dt.strftime("%Y-%m-%d"))


def write_transactions(rows: dict[str, np.ndarray], out_dir: Path, start: dt.date, customer_ids: np.ndarray,
                       article_ids: np.ndarray, progress: bool = True) -> Path:
    """transactions_train.csv, written in chunks so memory stays bounded at full scale."""
    path = out_dir / schema.TRANSACTIONS_FILE
    order = transaction_order(rows, customer_ids)
    ids = pl.Series(customer_ids)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        chunks = range(0, order.size, CSV_CHUNK_ROWS)
        for i, lo in enumerate(bar(chunks, desc="writing transactions", disable=not progress)):
            frame = transactions_frame(rows, order[lo: lo + CSV_CHUNK_ROWS], start, ids, article_ids)
            frame.write_csv(fh, include_header=i == 0)
        if order.size == 0:
            fh.write((",".join(schema.TRANSACTION_COLUMNS) + "\n").encode())
    return path
