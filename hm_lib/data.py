"""Raw competition CSVs -> validated, compact parquet (data/processed), and the Dataset read from it.

:func:`prepare` converts once, streaming the 3.5 GB transactions file through polars, and reuses
its output while the raw files' fingerprints are unchanged; :func:`load` returns a :class:`Dataset`.
Format errors raise :class:`RawDataError`; messy but usable rows are dropped or counted and reported.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from hm_lib import schema
from hm_lib.archive import raw_folder
from hm_lib.config import Config
from hm_lib.errors import InputError, MissingOutputError
from hm_lib.io import read_json, write_json, write_parquet
from hm_lib.schema import ARTICLE, CUSTOMER

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
PARQUET = {name: f"{name}.parquet" for name in ("transactions", "customers", "articles")}
RAW_FILES = (schema.ARTICLES_FILE, schema.CUSTOMERS_FILE, schema.TRANSACTIONS_FILE)
SORT_KEY = ("t_dat", CUSTOMER, ARTICLE, "price", "sales_channel_id")
ROW = "_row"  # 1-based data row number (the header is not counted)
MIB = 1 << 20
MAX_GAP_DAYS = 28       # dates this far from every other row's date, at either end of the data, are refused ...
OUTLIER_SHARE = 0.01    # ... when they are fewer than this share of the rows (a typo, not a second period)
ROWS_NAMED = 3          # rows quoted in a date error


class RawDataError(InputError):
    """A raw competition file is missing or does not follow the Kaggle format."""


class RawDataWarning(UserWarning):
    """Raw transactions dropped during preparation (their article or customer is unknown)."""


@dataclass(frozen=True)
class Rule:
    """How one raw text column parses; a null result from a non-empty value means malformed."""

    parse: Callable[[pl.Expr], pl.Expr]
    expected: str
    required: bool = True  # an empty value is an error too

    def bad(self, column: str) -> pl.Expr:
        failed = self.parse(pl.col(column)).is_null()
        return failed if self.required else failed & pl.col(column).is_not_null()


def _article_id(s: pl.Expr) -> pl.Expr:
    digits = s.str.contains(rf"^[0-9]{{1,{schema.ARTICLE_ID_DIGITS}}}$")
    return pl.when(digits).then(s.str.to_integer(strict=False).cast(pl.Int32, strict=False))


def _price(s: pl.Expr) -> pl.Expr:
    value = s.cast(pl.Float32, strict=False)
    return pl.when(value.is_finite()).then(value)


def _channel(s: pl.Expr) -> pl.Expr:
    value = s.cast(pl.Int8, strict=False)
    return pl.when(value.is_in(schema.SALES_CHANNELS)).then(value)


ARTICLE_ID = Rule(_article_id, "digits only, at most 10 (0108775015 or 108775015)")
HEX_ID = Rule(lambda s: pl.when(s.str.contains(rf"^[0-9a-f]{{{schema.HEX_ID_LENGTH}}}$")).then(s),
              "a 64-character lowercase hex string")
INTEGER = Rule(lambda s: s.str.to_integer(strict=False).cast(pl.Int32, strict=False), "an integer", False)
NUMBER = Rule(lambda s: s.cast(pl.Float32, strict=False), "a number or empty", False)
ARTICLE_RULES = {ARTICLE: ARTICLE_ID, **{c: INTEGER for c in schema.ARTICLE_INT_COLUMNS}}
CUSTOMER_RULES = {"customer_id": HEX_ID, "FN": NUMBER, "Active": NUMBER, "age": NUMBER}
TRANSACTION_RULES = {
    "t_dat": Rule(lambda s: s.str.to_date("%Y-%m-%d", strict=False), "a date written YYYY-MM-DD"),
    "customer_id": HEX_ID,
    ARTICLE: ARTICLE_ID,
    "price": Rule(_price, "a number, such as 0.0254"),
    "sales_channel_id": Rule(_channel, "a sales channel, 1 or 2"),
}


@dataclass(frozen=True)
class PrepareReport:
    """What :func:`prepare` found and wrote (``rows`` counts the transactions kept)."""

    raw_rows: int
    rows: int
    customers: int
    articles: int
    unknown_article_rows: int
    unknown_customer_rows: int
    dropped_rows: int
    duplicate_rows: int  # rows identical to another (several units bought): kept
    start_date: dt.date | None
    end_date: dt.date | None
    rebuilt: bool
    seconds: float

    def to_json(self) -> dict[str, Any]:
        return {k: v.isoformat() if isinstance(v, dt.date) else v
                for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_json(cls, data: dict[str, Any], **changes: Any) -> PrepareReport:
        dates = {k: dt.date.fromisoformat(data[k]) if data[k] else None for k in ("start_date", "end_date")}
        return cls(**{**data, **dates, **changes})


@dataclass(frozen=True)
class Dataset:
    """The processed tables (layout in :mod:`hm_lib.schema`) and the report of their preparation."""

    transactions: pl.DataFrame
    customers: pl.DataFrame
    articles: pl.DataFrame
    report: PrepareReport

    @property
    def start_date(self) -> dt.date | None:
        return _date_range(self.transactions)[0]

    @property
    def end_date(self) -> dt.date | None:
        return _date_range(self.transactions)[1]

    def customer_ids(self, indexes: Iterable[int] | pl.Series) -> pl.Series:
        """The hex ``customer_id`` of customer indexes (as in the submission file)."""
        return self.customers["customer_id"].gather(pl.Series(indexes, dtype=pl.Int64))

    def customer_index(self, hex_ids: Iterable[str] | pl.Series) -> pl.Series:
        """The Int32 customer index of hex ids, in their order; null for unknown ids."""
        keys = pl.DataFrame({"customer_id": pl.Series(hex_ids, dtype=pl.String)})
        mapping = self.customers.select("customer_id", CUSTOMER)
        return keys.join(mapping, on="customer_id", how="left", maintain_order="left")[CUSTOMER]


def _date_range(transactions: pl.DataFrame) -> tuple[dt.date | None, dt.date | None]:
    """First and last ``t_dat`` (None when there are no transactions)."""
    first, last = transactions.select(pl.col("t_dat").min().alias("first"), pl.col("t_dat").max()).row(0)
    return first, last


@contextmanager
def _stage(name: str) -> Iterator[None]:
    """Log the start and duration of a preparation stage."""
    start = time.perf_counter()
    log.info("prepare: %s ...", name)
    yield
    log.info("prepare: %s done in %.1f s", name, time.perf_counter() - start)


def fingerprint(path: Path) -> dict[str, Any]:
    """Size, mtime and a hash of the first and last MiB: cheap, and changes whenever a file does."""
    stat = path.stat()
    digest = hashlib.blake2b(digest_size=16)
    with path.open("rb") as f:
        digest.update(f.read(MIB))
        f.seek(max(MIB, stat.st_size - MIB))
        digest.update(f.read())
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "head_tail_blake2b": digest.hexdigest()}


def _raw_path(raw_dir: Path, file: str) -> Path:
    path = raw_dir / file
    if not path.is_file():
        raise RawDataError(
            f"{file} not found in {raw_dir}: put the Kaggle competition files ({', '.join(RAW_FILES)}) "
            "in data/raw/, or point to their folder with `hm run --data DIR`."
        )
    return path


def _scan(raw_dir: Path, file: str, columns: tuple[str, ...]) -> pl.LazyFrame:
    """The raw file as text columns plus the data row number, after checking its header."""
    lf = pl.scan_csv(_raw_path(raw_dir, file), infer_schema=False, row_index_name=ROW, row_index_offset=1)
    try:
        found = lf.collect_schema().names()
    except pl.exceptions.NoDataError as e:
        raise RawDataError(f"{file} in {raw_dir} is empty: re-download it from Kaggle.") from e
    missing = [c for c in columns if c not in found]
    if missing:
        header = ", ".join(c for c in found if c != ROW)
        raise RawDataError(
            f"{file}: column {missing[0]!r} is missing (header, line 1: {header}); "
            f"expected the columns {', '.join(columns)}. Re-download the file from Kaggle."
        )
    return lf.select(ROW, *columns)


def _collect(lf: pl.LazyFrame, file: str) -> pl.DataFrame:
    try:
        return lf.collect(engine="streaming")
    except pl.exceptions.ComputeError as e:
        raise RawDataError(f"{file} cannot be read as CSV ({e}); re-download it from Kaggle.") from e


def _find_error(raw: pl.LazyFrame, file: str, rules: dict[str, Rule]) -> RawDataError | None:
    """The error of the first malformed row (its first bad column), found in one vectorised pass."""
    bad = {c: rule.bad(c) for c, rule in rules.items()}
    first = raw.filter(pl.any_horizontal(bad.values())).head(1)
    hit = _collect(first.with_columns(**{f"_bad_{c}": expr for c, expr in bad.items()}), file)
    if hit.is_empty():
        return None
    column = next(c for c in rules if hit[f"_bad_{c}"][0])
    value = hit[column][0]
    return RawDataError(
        f"{file}: column {column!r}, data row {hit[ROW][0]} (1-based, header not counted): bad value "
        f"{'(empty)' if value is None else repr(value)}, expected {rules[column].expected}. "
        "Fix the file or re-download it from Kaggle."
    )


def _check_unique(df: pl.DataFrame, file: str, column: str) -> None:
    repeated = df.filter(~pl.col(column).is_first_distinct()).head(1)
    if not repeated.is_empty():
        raise RawDataError(
            f"{file}: column {column!r}, data row {repeated[ROW][0]} (1-based, header not counted): "
            f"id {repeated[column][0]!r} appears twice; ids must be unique. Re-download the file from Kaggle."
        )


def _read_table(
    raw_dir: Path, file: str, columns: tuple[str, ...], rules: dict[str, Rule], key: str
) -> pl.DataFrame:
    """A small raw table, validated, with its ruled columns typed and the row number kept."""
    raw = _collect(_scan(raw_dir, file, columns), file)
    error = _find_error(raw.lazy(), file, rules)
    if error:
        raise error
    typed = raw.with_columns(rule.parse(pl.col(c)).alias(c) for c, rule in rules.items())
    _check_unique(typed, file, key)
    return typed


def read_articles(raw_dir: Path) -> pl.DataFrame:
    """articles.csv typed as in articles.parquet."""
    table = _read_table(raw_dir, schema.ARTICLES_FILE, schema.ARTICLE_COLUMNS, ARTICLE_RULES, ARTICLE)
    return table.drop(ROW)


def read_customers(raw_dir: Path) -> pl.DataFrame:
    """customers.csv typed as in customers.parquet: ``customer`` is the 0-based row number."""
    file = schema.CUSTOMERS_FILE
    table = _read_table(raw_dir, file, schema.CUSTOMER_COLUMNS, CUSTOMER_RULES, "customer_id")
    return table.select((pl.col(ROW) - 1).cast(pl.Int32).alias(CUSTOMER), *schema.CUSTOMER_COLUMNS)


def read_transactions(raw_dir: Path, customers: pl.DataFrame) -> pl.DataFrame:
    """transactions_train.csv streamed, typed, and with the hex id mapped to the ``customer`` index.

    Customers missing from ``customers`` come back null. Malformed values raise RawDataError; the raw
    text is re-scanned to name the first bad row only when the typed pass finds nulls.
    """
    file = schema.TRANSACTIONS_FILE
    raw = _scan(raw_dir, file, schema.TRANSACTION_COLUMNS)
    typed = raw.select(
        *(TRANSACTION_RULES[c].parse(pl.col(c)).alias(c) for c in SORT_KEY if c != CUSTOMER), "customer_id"
    ).join(customers.lazy().select("customer_id", CUSTOMER), on="customer_id", how="left")
    df = _collect(typed.select(SORT_KEY), file)
    if df.null_count().sum_horizontal().item():
        error = _find_error(raw, file, TRANSACTION_RULES)
        if error:
            raise error
    return df


def _rows_dated(raw_dir: Path, days: list[dt.date]) -> tuple[list[int], int]:
    """The first data rows of transactions_train.csv dated on ``days``, and how many rows are."""
    file = schema.TRANSACTIONS_FILE
    hits = _scan(raw_dir, file, ("t_dat",)).filter(pl.col("t_dat").is_in([d.isoformat() for d in days]))
    found = _collect(hits.select(pl.col(ROW).head(ROWS_NAMED).implode(), pl.len().alias("n")), file)
    return list(found[ROW][0]), int(found["n"][0])


def _date_error(raw_dir: Path, days: list[dt.date], why: str) -> RawDataError:
    rows, count = _rows_dated(raw_dir, days)
    where = ", ".join(f"{r:,}" for r in rows) + (", ..." if count > len(rows) else "")
    return RawDataError(
        f"{schema.TRANSACTIONS_FILE}: column 't_dat', data row{'s' if count > 1 else ''} {where} "
        f"({count:,} row{'s' if count > 1 else ''}, dated {', '.join(str(d) for d in days[:ROWS_NAMED])}"
        f"{', ...' if len(days) > ROWS_NAMED else ''}): {why}. Fix or remove those rows."
    )


def _check_dates(df: pl.DataFrame, raw_dir: Path, allow_future: bool) -> None:
    """Refuse dates after today (unless ``allow_future``) and a few rows dated far outside the others' span.

    Either would move the data's end, and with it the cut-off and the predicted week.
    """
    today = dt.date.today()
    if not allow_future:
        future = df.filter(pl.col("t_dat") > today)["t_dat"].unique().sort().to_list()
        if future:
            raise _date_error(raw_dir, future, f"after today ({today}); pass --allow-future if that is meant")
    per_day = df.group_by("t_dat").len().sort("t_dat")
    dates, rows = per_day["t_dat"].to_list(), per_day["len"].to_numpy()
    gaps = [i for i in range(1, len(dates)) if (dates[i] - dates[i - 1]).days > MAX_GAP_DAYS]
    if not gaps:
        return
    head, tail = gaps[0], gaps[-1]  # dates[:head] before the first gap, dates[tail:] after the last
    span = f"{MAX_GAP_DAYS}+ days from every other row's date"
    if rows[tail:].sum() < OUTLIER_SHARE * df.height:
        raise _date_error(raw_dir, dates[tail:], f"{span}, after the span {dates[0]} .. {dates[tail - 1]} "
                                                 "that the other rows cover")
    if rows[:head].sum() < OUTLIER_SHARE * df.height:
        raise _date_error(raw_dir, dates[:head], f"{span}, before the span {dates[head]} .. {dates[-1]} "
                                                 "that the other rows cover")


def _warn_prices(df: pl.DataFrame) -> None:
    bad = int(df.select((pl.col("price") <= 0).sum()).item())
    if bad:
        warnings.warn(f"{schema.TRANSACTIONS_FILE}: rows with a zero or negative price: {bad:,} of {df.height:,}; "
                      "they are kept (the price features treat them as they are)", RawDataWarning, stacklevel=3)


def count_customers(raw_dir: str | Path) -> int:
    """Data rows of customers.csv (a quick count, without validating the file)."""
    path = _raw_path(Path(raw_dir), schema.CUSTOMERS_FILE)
    return int(pl.scan_csv(path, infer_schema=False).select(pl.len()).collect().item())


def _drop_unknown(df: pl.DataFrame, articles: pl.DataFrame) -> tuple[pl.DataFrame, dict[str, int]]:
    """Drop (and count, and warn about) rows whose customer or article is not in the tables."""
    known_customer = pl.col(CUSTOMER).is_not_null()
    known_article = pl.col(ARTICLE).is_in(articles[ARTICLE].implode())
    counts = df.select(
        unknown_article_rows=(~known_article).sum(), unknown_customer_rows=(~known_customer).sum(),
        dropped_rows=(~(known_customer & known_article)).sum(),
    ).row(0, named=True)
    if counts["dropped_rows"]:
        warnings.warn(
            f"{schema.TRANSACTIONS_FILE}: dropped {counts['dropped_rows']} of {df.height} rows whose article "
            f"({counts['unknown_article_rows']} rows) is not in {schema.ARTICLES_FILE} or whose customer "
            f"({counts['unknown_customer_rows']} rows) is not in {schema.CUSTOMERS_FILE}",
            RawDataWarning, stacklevel=3,
        )
    return df.filter(known_customer & known_article), counts


def _count_duplicates(sorted_df: pl.DataFrame) -> int:
    """Rows equal to the row before them, in a frame sorted on all its columns."""
    same = pl.all_horizontal(pl.col(c) == pl.col(c).shift(1) for c in sorted_df.columns)
    return int(sorted_df.select(same.sum()).item())


def _convert(raw_dir: Path, processed_dir: Path, allow_future: bool) -> PrepareReport:
    """Read, validate and convert the raw files; write the three parquet tables."""
    file = schema.TRANSACTIONS_FILE
    with _stage(f"reading and validating {schema.ARTICLES_FILE} and {schema.CUSTOMERS_FILE}"):
        articles, customers = read_articles(raw_dir), read_customers(raw_dir)
    with _stage(f"reading, validating and converting {file}"):
        transactions = read_transactions(raw_dir, customers)
        raw_rows = transactions.height
        if not raw_rows:
            raise RawDataError(f"{file} in {raw_dir} has no data rows (only its header): re-download it from Kaggle.")
        _check_dates(transactions, raw_dir, allow_future)
        _warn_prices(transactions)
        transactions, dropped = _drop_unknown(transactions, articles)
        if transactions.is_empty():
            raise RawDataError(f"{file}: none of its {raw_rows:,} rows has both its customer in "
                               f"{schema.CUSTOMERS_FILE} and its article in {schema.ARTICLES_FILE}: are the three "
                               "files from the same download?")
        transactions = transactions.sort(SORT_KEY)
    with _stage(f"writing parquet to {processed_dir}"):
        for name, table in (("transactions", transactions), ("customers", customers), ("articles", articles)):
            write_parquet(table, processed_dir / PARQUET[name])
    start_date, end_date = _date_range(transactions)
    return PrepareReport(
        raw_rows=raw_rows, rows=transactions.height, customers=customers.height, articles=articles.height,
        **dropped, duplicate_rows=_count_duplicates(transactions), start_date=start_date, end_date=end_date,
        rebuilt=True, seconds=0.0,
    )


def _read_manifest(processed_dir: Path) -> dict[str, Any] | None:
    path = processed_dir / MANIFEST
    return read_json(path) if path.is_file() else None


def _is_fresh(manifest: dict[str, Any], files: dict[str, Any], processed_dir: Path) -> bool:
    return (
        manifest.get("format_version") == FORMAT_VERSION and manifest.get("files") == files
        and all((processed_dir / f).is_file() for f in PARQUET.values())
    )


def prepare(raw_dir: str | Path, processed_dir: str | Path, force: bool = False,
            allow_future: bool = False) -> PrepareReport:
    """Convert the raw files to parquet in ``processed_dir`` unless an up-to-date conversion is there.

    ``raw_dir``: a folder of the competition files, or the Kaggle zip (see :mod:`hm_lib.archive`).
    Transactions dated after today are refused unless ``allow_future``.
    """
    start = time.perf_counter()
    processed_dir = Path(processed_dir)
    raw_dir = raw_folder(raw_dir, processed_dir.parent)  # the Kaggle zip or .csv.gz files: unpacked once
    files = {file: fingerprint(_raw_path(raw_dir, file)) for file in RAW_FILES}
    manifest = _read_manifest(processed_dir)
    if not force and manifest is not None and _is_fresh(manifest, files, processed_dir):
        log.info("prepare: %s is up to date with %s, reusing it", processed_dir, raw_dir)
        return PrepareReport.from_json(manifest["report"], rebuilt=False, seconds=time.perf_counter() - start)
    (processed_dir / MANIFEST).unlink(missing_ok=True)  # a run killed from here on is redone next time
    report = dataclasses.replace(_convert(raw_dir, processed_dir, allow_future), seconds=time.perf_counter() - start)
    write_json({"format_version": FORMAT_VERSION, "raw_dir": str(raw_dir.resolve()), "files": files,
                "report": report.to_json()}, processed_dir / MANIFEST)
    log.info("prepare: %d transactions, %d customers, %d articles in %.1f s",
             report.rows, report.customers, report.articles, report.seconds)
    return report


def load(raw_dir: str | Path, processed_dir: str | Path, prepare_if_needed: bool = True) -> Dataset:
    """The processed tables, preparing them first when missing or stale (unless told not to)."""
    processed_dir = Path(processed_dir)
    if prepare_if_needed:
        report = prepare(raw_dir, processed_dir)
    else:
        manifest = _read_manifest(processed_dir)
        if manifest is None:
            raise MissingOutputError(f"no prepared data in {processed_dir}: run hm_lib.data.prepare first")
        report = PrepareReport.from_json(manifest["report"], rebuilt=False, seconds=0.0)
    tables = {name: pl.read_parquet(processed_dir / file) for name, file in PARQUET.items()}
    return Dataset(**tables, report=report)


def load_config(cfg: Config) -> Dataset:
    """:func:`load` with the folders of a :class:`~hm_lib.config.Config`."""
    return load(cfg.data_dir, cfg.processed_dir)
