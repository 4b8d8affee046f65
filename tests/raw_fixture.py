"""A small, valid raw H&M folder written by hand, in the exact format of the Kaggle files.

Independent of the synthetic generator so that the loader's tests only depend on the format.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl

from hm_lib import schema

HEX = np.frombuffer(b"0123456789abcdef", dtype="S1")
FIRST_DAY = dt.date(2020, 8, 20)
N_REPEATS = 5  # rows written twice: a customer buying two units of an article on one day


def hex_ids(rng: np.random.Generator, n: int) -> pl.Series:
    """``n`` random 64-character lowercase hex strings."""
    chars = HEX[rng.integers(0, 16, (n, schema.HEX_ID_LENGTH))]
    return pl.Series(chars.view(f"S{schema.HEX_ID_LENGTH}").ravel()).cast(pl.String)


def with_gaps(rng: np.random.Generator, values: pl.Series, share: float) -> pl.Series:
    """``values`` with about ``share`` of them set to null (written as empty fields)."""
    return values.set(pl.Series(rng.random(len(values)) < share), None)


def articles_frame(rng: np.random.Generator, n: int) -> pl.DataFrame:
    product = 108_775 + np.arange(n) // 2
    article = product * 1000 + 15 + np.arange(n) % 2
    pick = rng.integers(0, 3, n)
    names = {
        "prod_name": ["Strap top", "Tank top", "Trousers"],
        "product_type_name": ["Vest top", "Vest top", "Trousers"],
        "product_group_name": ["Garment Upper body", "Garment Upper body", "Garment Lower body"],
        "graphical_appearance_name": ["Solid", "Stripe", "Melange"],
        "colour_group_name": ["Black", "White", "Dark Blue"],
        "perceived_colour_value_name": ["Dark", "Light", "Dark"],
        "perceived_colour_master_name": ["Black", "White", "Blue"],
        "department_name": ["Jersey Basic", "Jersey Basic", "Trousers"],
        "index_name": ["Ladieswear", "Divided", "Menswear"],
        "index_group_name": ["Ladieswear", "Divided", "Menswear"],
        "section_name": ["Womens Everyday Basics", "Divided Basics", "Menswear"],
        "garment_group_name": ["Jersey Basic", "Jersey Basic", "Trousers"],
    }
    codes = {
        "product_type_no": [253, 253, 272], "graphical_appearance_no": [1010016, 1010017, 1010010],
        "colour_group_code": [9, 10, 73], "perceived_colour_value_id": [4, 3, 4],
        "perceived_colour_master_id": [5, 9, 2], "department_no": [1676, 1339, 1722],
        "index_group_no": [1, 2, 3], "section_no": [16, 53, 20], "garment_group_no": [1002, 1002, 1009],
    }
    columns = {name: np.array(values)[pick] for name, values in {**names, **codes}.items()}
    columns["colour_group_code"] = np.char.zfill(columns["colour_group_code"].astype(str), 2)
    desc = pl.Series(np.array([
        "Jersey top with narrow shoulder straps.", "Tank top in soft, stretch jersey.",
        "Trousers in cotton, with a zip.",
    ])[pick])
    frame = pl.DataFrame({
        "article_id": np.char.zfill(article.astype(str), schema.ARTICLE_ID_DIGITS),
        "product_code": np.char.zfill(product.astype(str), schema.PRODUCT_CODE_DIGITS),
        "index_code": np.array(["A", "B", "F"])[pick],
        "detail_desc": with_gaps(rng, desc, 0.1),
        **columns,
    })
    return frame.select(schema.ARTICLE_COLUMNS)


def pick_with_gaps(rng: np.random.Generator, values: list[str], n: int, share: float = 0.05) -> pl.Series:
    return with_gaps(rng, pl.Series(np.array(values)[rng.integers(0, len(values), n)]), share)


def customers_frame(rng: np.random.Generator, n: int) -> pl.DataFrame:
    flag = with_gaps(rng, pl.Series(np.full(n, "1.0")), 0.6)
    return pl.DataFrame({
        "customer_id": hex_ids(rng, n),
        "FN": flag,
        "Active": flag,
        "club_member_status": pick_with_gaps(rng, ["ACTIVE", "PRE-CREATE"], n),
        "fashion_news_frequency": pick_with_gaps(rng, ["NONE", "Regularly"], n),
        "age": with_gaps(rng, pl.Series(rng.integers(16, 80, n).astype(float).astype(str)), 0.05),
        "postal_code": hex_ids(rng, n),
    })


def transactions_frame(
    rng: np.random.Generator, articles: pl.DataFrame, customers: pl.DataFrame, n_rows: int
) -> pl.DataFrame:
    n = n_rows - N_REPEATS
    days = np.sort(rng.integers(0, 28, n))
    # The last 10% of customers never buy; everyone else may.
    buyers = customers["customer_id"].head(max(1, int(customers.height * 0.9)))
    frame = pl.DataFrame({
        "t_dat": pl.date_range(FIRST_DAY, FIRST_DAY + dt.timedelta(days=27), eager=True).gather(days),
        "customer_id": buyers.gather(rng.integers(0, len(buyers), n)),
        "article_id": articles["article_id"].gather(rng.integers(0, articles.height, n)),
        "price": np.char.mod("%.16f", rng.integers(1, 2000, n) / 59_000),
        "sales_channel_id": rng.choice([1, 2], n, p=[0.3, 0.7]),
    })
    repeats = np.sort(rng.choice(n, N_REPEATS, replace=False))
    order = np.sort(np.concatenate([np.arange(n), repeats]), kind="stable")
    return frame[order].with_columns(pl.col("t_dat").dt.to_string("%Y-%m-%d"))


def write_raw(
    dir: str | Path, n_customers: int = 40, n_articles: int = 30, n_rows: int = 400, seed: int = 0
) -> Path:
    """Write articles.csv, customers.csv and transactions_train.csv (``n_rows`` rows, of which
    ``N_REPEATS`` repeat the row above them) into ``dir``; return ``dir``."""
    out = Path(dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    articles = articles_frame(rng, n_articles)
    customers = customers_frame(rng, n_customers)
    articles.write_csv(out / schema.ARTICLES_FILE)
    customers.write_csv(out / schema.CUSTOMERS_FILE)
    transactions_frame(rng, articles, customers, n_rows).write_csv(out / schema.TRANSACTIONS_FILE)
    return out


def read_raw(raw: Path, file: str) -> pl.DataFrame:
    """A raw file with every column as text."""
    return pl.read_csv(raw / file, infer_schema=False)


def set_value(raw: Path, file: str, column: str, row: int, value: str | None) -> None:
    """Overwrite one field of a raw file (``row`` is the 1-based data row)."""
    df = read_raw(raw, file)
    df.with_columns(df[column].scatter(row - 1, value)).write_csv(raw / file)
