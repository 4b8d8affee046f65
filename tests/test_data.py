"""hm_lib.data: validation of the raw files, conversion to parquet, reuse, and loading."""
from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

from hm_lib import data, schema
from hm_lib.config import Config
from hm_lib.data import RawDataError, RawDataWarning
from raw_fixture import N_REPEATS, read_raw, set_value, write_raw

REAL_SAMPLE = Path(__file__).resolve().parents[1].parent / "shared" / "real_sample"
TRANSACTIONS_SCHEMA = {
    "t_dat": pl.Date, "customer": pl.Int32, "article_id": pl.Int32, "price": pl.Float32,
    "sales_channel_id": pl.Int8,
}
CUSTOMERS_SCHEMA = {
    "customer": pl.Int32, "customer_id": pl.String, "FN": pl.Float32, "Active": pl.Float32,
    "club_member_status": pl.String, "fashion_news_frequency": pl.String, "age": pl.Float32,
    "postal_code": pl.String,
}
UNKNOWN_ARTICLE = "0999999999"
UNKNOWN_CUSTOMER = "f" * schema.HEX_ID_LENGTH


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    return write_raw(tmp_path / "raw")




def test_prepare_and_load_valid_folder(raw: Path, tmp_path: Path) -> None:
    ds = data.load(raw, tmp_path / "processed")
    assert dict(ds.transactions.schema) == TRANSACTIONS_SCHEMA
    assert dict(ds.customers.schema) == CUSTOMERS_SCHEMA
    assert ds.articles.columns == list(schema.ARTICLE_COLUMNS)
    assert all(ds.articles.schema[c] == pl.Int32 for c in (schema.ARTICLE, *schema.ARTICLE_INT_COLUMNS))
    raw_tx = read_raw(raw, schema.TRANSACTIONS_FILE)
    report = ds.report
    assert (report.raw_rows, report.rows, report.dropped_rows) == (raw_tx.height, raw_tx.height, 0)
    assert (report.customers, report.articles) == (40, 30)
    assert ds.customers["customer"].to_list() == list(range(40))
    assert ds.customers["customer_id"].equals(read_raw(raw, schema.CUSTOMERS_FILE)["customer_id"])
    assert ds.customers["age"].null_count() > 0 and ds.articles["detail_desc"].null_count() > 0
    assert ds.transactions.equals(ds.transactions.sort(data.SORT_KEY))
    first, last = raw_tx["t_dat"].str.to_date().min(), raw_tx["t_dat"].str.to_date().max()
    assert (ds.start_date, ds.end_date) == (first, last)
    assert (report.start_date, report.end_date) == (ds.start_date, ds.end_date)


def test_customer_mapping_round_trip(raw: Path, tmp_path: Path) -> None:
    ds = data.load(raw, tmp_path / "processed")
    hex_ids = ds.customer_ids([5, 0, 39])
    assert ds.customer_index(hex_ids).to_list() == [5, 0, 39]
    assert ds.customer_index([UNKNOWN_CUSTOMER]).to_list() == [None]
    mapped = ds.transactions.select(
        pl.col("t_dat").dt.to_string("%Y-%m-%d"), customer_id=ds.customer_ids(ds.transactions["customer"]),
        article_id=pl.col("article_id"),
    )
    expected = read_raw(raw, schema.TRANSACTIONS_FILE).select(
        "t_dat", "customer_id", pl.col("article_id").cast(pl.Int32)
    )
    assert mapped.sort(pl.all()).equals(expected.sort(pl.all()))


def test_unpadded_ids_equal_padded(raw: Path, tmp_path: Path) -> None:
    unpadded = tmp_path / "unpadded"
    shutil.copytree(raw, unpadded)
    codes = ("article_id", "product_code", "colour_group_code")
    strip = [pl.col(c).cast(pl.Int64).cast(pl.String) for c in codes]
    read_raw(raw, schema.ARTICLES_FILE).with_columns(strip).write_csv(unpadded / schema.ARTICLES_FILE)
    transactions = read_raw(raw, schema.TRANSACTIONS_FILE).with_columns(strip[0])
    transactions.write_csv(unpadded / schema.TRANSACTIONS_FILE)
    assert "108775015," in (unpadded / schema.TRANSACTIONS_FILE).read_text()
    padded, plain = data.load(raw, tmp_path / "p1"), data.load(unpadded, tmp_path / "p2")
    for name in data.PARQUET:
        assert getattr(padded, name).equals(getattr(plain, name)), name


def test_rebuild_only_when_needed(raw: Path, tmp_path: Path) -> None:
    out = tmp_path / "processed"
    assert data.prepare(raw, out).rebuilt
    written = (out / data.PARQUET["transactions"]).stat().st_mtime_ns
    again = data.prepare(raw, out)
    assert not again.rebuilt and again.rows == 400
    assert (out / data.PARQUET["transactions"]).stat().st_mtime_ns == written
    assert data.prepare(raw, out, force=True).rebuilt
    with (raw / schema.TRANSACTIONS_FILE).open("a") as f:
        f.write(read_raw(raw, schema.TRANSACTIONS_FILE).tail(1).write_csv(include_header=False))
    changed = data.prepare(raw, out)
    assert changed.rebuilt and changed.rows == 401
    (out / data.MANIFEST).unlink()  # as if a run had been killed before writing it
    assert data.prepare(raw, out).rebuilt


def test_load_without_prepare(raw: Path, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no prepared data"):
        data.load(raw, tmp_path / "processed", prepare_if_needed=False)
    data.prepare(raw, tmp_path / "processed")
    ds = data.load(tmp_path / "nowhere", tmp_path / "processed", prepare_if_needed=False)
    assert ds.transactions.height == 400 and not ds.report.rebuilt


def test_load_config(raw: Path, tmp_path: Path) -> None:
    ds = data.load_config(Config(data_dir=raw, work_dir=tmp_path / "work"))
    assert (tmp_path / "work" / "processed" / data.MANIFEST).is_file() and ds.report.rows == 400


def test_missing_file(raw: Path, tmp_path: Path) -> None:
    (raw / schema.CUSTOMERS_FILE).unlink()
    with pytest.raises(RawDataError, match=r"customers\.csv not found") as err:
        data.prepare(raw, tmp_path / "processed")
    assert "data/raw/" in str(err.value) and "--data" in str(err.value)


def test_missing_column(raw: Path, tmp_path: Path) -> None:
    read_raw(raw, schema.TRANSACTIONS_FILE).drop("price").write_csv(raw / schema.TRANSACTIONS_FILE)
    with pytest.raises(RawDataError, match=r"transactions_train\.csv: column 'price' is missing") as err:
        data.prepare(raw, tmp_path / "processed")
    assert ", ".join(schema.TRANSACTION_COLUMNS) in str(err.value)


@pytest.mark.parametrize(("file", "column", "value", "expected"), [
    (schema.TRANSACTIONS_FILE, "t_dat", "2020/09/01", "YYYY-MM-DD"),
    (schema.TRANSACTIONS_FILE, "t_dat", "2020-02-30", "YYYY-MM-DD"),
    (schema.TRANSACTIONS_FILE, "price", "0.02x", "a number"),
    (schema.TRANSACTIONS_FILE, "price", None, "a number"),
    (schema.TRANSACTIONS_FILE, "sales_channel_id", "3", "1 or 2"),
    (schema.TRANSACTIONS_FILE, "article_id", "01087750X5", "digits only"),
    (schema.TRANSACTIONS_FILE, "article_id", "01087750150", "at most 10"),
    (schema.TRANSACTIONS_FILE, "customer_id", "ABCDEF" * 10 + "ABCD", "lowercase hex"),
    (schema.TRANSACTIONS_FILE, "customer_id", "abc123", "64-character"),
    (schema.CUSTOMERS_FILE, "customer_id", "0" * 63 + "g", "64-character lowercase hex"),
    (schema.CUSTOMERS_FILE, "age", "twenty", "a number"),
    (schema.ARTICLES_FILE, "article_id", "-108775015", "digits only"),
    (schema.ARTICLES_FILE, "product_code", "0108775a", "an integer"),
])
def test_malformed_value(
    raw: Path, tmp_path: Path, file: str, column: str, value: str | None, expected: str
) -> None:
    row = 17
    set_value(raw, file, column, row, value)
    set_value(raw, file, column, row + 3, value)  # the first bad row is the one reported
    with pytest.raises(RawDataError) as err:
        data.prepare(raw, tmp_path / "processed")
    message = str(err.value)
    shown = "(empty)" if value is None else repr(value)
    for part in (file, repr(column), f"data row {row} ", shown, expected):
        assert part in message, (part, message)
    assert not (tmp_path / "processed" / data.MANIFEST).exists()


def test_duplicate_customer_id(raw: Path, tmp_path: Path) -> None:
    first = read_raw(raw, schema.CUSTOMERS_FILE)["customer_id"][0]
    set_value(raw, schema.CUSTOMERS_FILE, "customer_id", 9, first)
    message = r"customers\.csv: column 'customer_id', data row 9 .*appears twice"
    with pytest.raises(RawDataError, match=message):
        data.prepare(raw, tmp_path / "processed")


def test_unknown_article_and_customer_dropped(raw: Path, tmp_path: Path) -> None:
    set_value(raw, schema.TRANSACTIONS_FILE, "article_id", 10, UNKNOWN_ARTICLE)
    set_value(raw, schema.TRANSACTIONS_FILE, "article_id", 11, UNKNOWN_ARTICLE)
    set_value(raw, schema.TRANSACTIONS_FILE, "customer_id", 11, UNKNOWN_CUSTOMER)
    set_value(raw, schema.TRANSACTIONS_FILE, "customer_id", 12, UNKNOWN_CUSTOMER)
    with pytest.warns(RawDataWarning, match="dropped 3 of 400 rows"):
        ds = data.load(raw, tmp_path / "processed")
    report = ds.report
    assert (report.unknown_article_rows, report.unknown_customer_rows, report.dropped_rows) == (2, 2, 3)
    assert report.rows == ds.transactions.height == 397
    assert ds.transactions["article_id"].is_in(ds.articles["article_id"].implode()).all()
    assert ds.transactions["customer"].null_count() == 0
    assert data.load(raw, tmp_path / "processed").report.dropped_rows == 3  # kept in the manifest


def test_repeated_rows_kept_and_counted(raw: Path, tmp_path: Path) -> None:
    ds = data.load(raw, tmp_path / "processed")
    assert ds.report.duplicate_rows == N_REPEATS
    assert ds.transactions.height == 400
    assert ds.transactions.height - ds.transactions.unique().height == N_REPEATS


@pytest.mark.skipif(not REAL_SAMPLE.is_dir(), reason="no ../shared/real_sample")
def test_real_sample(tmp_path: Path) -> None:
    with pytest.warns(RawDataWarning, match="dropped"):
        ds = data.load(REAL_SAMPLE, tmp_path / "processed")
    report = ds.report
    assert (report.raw_rows, report.articles, report.customers) == (2000, 300, 104)
    assert report.unknown_article_rows > 0 and report.rows + report.dropped_rows == 2000
    assert dict(ds.transactions.schema) == TRANSACTIONS_SCHEMA
    assert ds.transactions["article_id"].is_in(ds.articles["article_id"].implode()).all()
    assert ds.articles["article_id"].min() == 145872052  # 0145872052, read without its zero
