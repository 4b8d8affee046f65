"""Write and validate the Kaggle submission: ``customer_id,prediction`` with 12 article ids per row.

Both directions are vectorised polars (no Python loop per customer): the writer builds one list
per customer (:func:`hm_lib.baselines.ranked_lists`) and joins the zero-padded ids with
``list.join``; the validator reads every line as one string and checks all rows at once,
reporting every problem it finds. :func:`write_scored_submission` is the stage's end: the file,
its check, and on a synthetic world its score on the hidden target week.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from hm_lib.baselines import popular_last_week, ranked_lists
from hm_lib.config import Config
from hm_lib.cutoffs import is_after_data
from hm_lib.data import Dataset
from hm_lib.errors import InputError
from hm_lib.evaluation import score
from hm_lib.io import atomic_path
from hm_lib.schema import ARTICLE, ARTICLE_ID_DIGITS, CUSTOMER, SUBMISSION_FILE, K
from hm_lib.truth import has_truth, truth_for_week

HEADER = "customer_id,prediction"
CUSTOMER_ID = "customer_id"
PREDICTION = "prediction"
_LINE = "line"
_ARTICLE_RE = rf"^\d{{{ARTICLE_ID_DIGITS}}}$"


@dataclass(frozen=True)
class Problem:
    """One kind of defect: how many were found, the first line (1 = header) if any, an example."""

    kind: str
    message: str
    count: int
    line: int | None
    example: str

    def __str__(self) -> str:
        where = f", first at line {self.line}" if self.line is not None else ""
        return f"{self.kind}: {self.message} ({self.count} found{where}), e.g. {self.example!r}"


class SubmissionError(InputError):
    """A submission that Kaggle would reject, or predictions that cannot make one."""

    def __init__(self, problems: Sequence[Problem], path: str | Path | None = None):
        self.problems = list(problems)
        head = f"{path}: " if path is not None else ""
        lines = "".join(f"\n- {p}" for p in self.problems)
        super().__init__(f"{head}{len(self.problems)} problem(s):{lines}")

    @property
    def kinds(self) -> list[str]:
        return [p.kind for p in self.problems]


@dataclass(frozen=True)
class ValidationReport:
    """Figures of a valid submission."""

    path: Path
    rows: int
    distinct_articles: int


def gz_path(path: str | Path) -> Path:
    """The gzipped copy's path: ``submission.csv`` -> ``submission.csv.gz``."""
    return Path(f"{path}.gz")


def write_submission(
    predictions: pl.DataFrame,
    customers: pl.DataFrame,
    articles: pl.DataFrame,
    path: str | Path,
    fill: Sequence[int] | None = None,
    k: int = K,
) -> Path:
    """Write ``path`` and ``path.gz`` atomically, one row per customer in ``customers`` order.

    ``predictions`` (customer, article_id, rank) are deduplicated and cut at ``k``; short lists
    are completed from ``fill`` (article ids, best first), required when any list is short.
    Raises :class:`SubmissionError` for unknown customers or articles, or a missing fill.
    """
    table = customers.select(pl.col(CUSTOMER).cast(pl.Int32), CUSTOMER_ID)
    known = articles.get_column(ARTICLE).cast(pl.Int32)
    _check_inputs(predictions, table, known)
    lists = table.join(ranked_lists(predictions, [] if fill is None else fill, table, k), on=CUSTOMER,
                       maintain_order="left")
    _check_fill(lists, known, fill, k)
    frame = _format(lists)
    path = Path(path)
    with atomic_path(path) as tmp:
        frame.write_csv(tmp)
    with atomic_path(gz_path(path)) as tmp:
        frame.write_csv(tmp, compression="gzip")
    return path


def _not_in(values: pl.Series, allowed: pl.Series, kind: str, message: str) -> list[Problem]:
    """A Problem for the values missing from ``allowed`` (none if all are there)."""
    stray = values.filter(~values.is_in(allowed.implode()))
    return [Problem(kind, message, stray.len(), None, str(stray[0]))] if stray.len() else []


def _check_inputs(predictions: pl.DataFrame, table: pl.DataFrame, known: pl.Series) -> None:
    problems = _not_in(predictions.get_column(CUSTOMER).cast(pl.Int32), table[CUSTOMER], "unknown_customer",
                       "predicted customer index not in the customers table")
    problems += _not_in(predictions.get_column(ARTICLE).cast(pl.Int32), known, "unknown_article",
                        "predicted article not in the articles table")
    if problems:
        raise SubmissionError(problems)


def _check_fill(lists: pl.DataFrame, known: pl.Series, fill: Sequence[int] | None, k: int) -> None:
    """Every customer has ``k`` predictions, and the fill articles exist."""
    problems = []
    short = lists.filter(pl.col(ARTICLE).list.len() < k)
    if short.height:
        hint = "pass fill= (e.g. the best-sellers)"
        if fill is not None:
            hint = f"fill adds fewer than {k} new articles"
        problems.append(Problem("short_list", f"fewer than {k} distinct predictions; {hint}",
                                short.height, None, short[CUSTOMER_ID][0]))
    if fill is not None:
        problems += _not_in(pl.Series(ARTICLE, fill, dtype=pl.Int32), known, "unknown_article",
                            "fill article not in the articles table")
    if problems:
        raise SubmissionError(problems)


def _format(lists: pl.DataFrame) -> pl.DataFrame:
    """customer_id, prediction: each list as space-separated 10-digit ids."""
    ids = pl.element().cast(pl.Utf8).str.zfill(ARTICLE_ID_DIGITS)
    return lists.select(CUSTOMER_ID, pl.col(ARTICLE).list.eval(ids).list.join(" ").alias(PREDICTION))


def _customer_ids(customers: str | Path | pl.DataFrame) -> pl.Series:
    if isinstance(customers, pl.DataFrame):
        return customers.get_column(CUSTOMER_ID)
    return pl.read_csv(customers, columns=[CUSTOMER_ID], infer_schema=False).get_column(CUSTOMER_ID)


def _article_ids(articles: pl.DataFrame | pl.Series | Iterable[int]) -> pl.Series:
    if isinstance(articles, pl.DataFrame):
        articles = articles.get_column(ARTICLE)
    elif not isinstance(articles, pl.Series):
        articles = pl.Series(ARTICLE, list(articles))
    return articles.cast(pl.Int64)


def _read_lines(path: Path) -> pl.DataFrame:
    """Every line of a .csv or .csv.gz as one string (null for blank lines), with its number."""
    return pl.read_csv(
        path, has_header=False, separator="\x1f", quote_char=None, infer_schema=False,
        new_columns=[_LINE], raise_if_empty=False, row_index_name="line_no", row_index_offset=1,
    )


def _first(rows: pl.DataFrame, mask: pl.Expr, kind: str, message: str, example: pl.Expr) -> list[Problem]:
    """A Problem for the rows matching ``mask`` (none if no row does)."""
    bad = rows.filter(mask)
    if not bad.height:
        return []
    return [Problem(kind, message, bad.height, int(bad["line_no"][0]), str(bad.select(example).item(0, 0)))]


def validate_submission(
    path: str | Path,
    customers: str | Path | pl.DataFrame,
    articles: pl.DataFrame | pl.Series | Iterable[int],
    k: int = K,
) -> ValidationReport:
    """Check a .csv or .csv.gz submission against customers.csv (path or frame) and the articles.

    Raises :class:`SubmissionError` listing every problem found (header, row count, malformed
    rows, duplicate / unknown / missing customers, prediction count, duplicate, malformed or
    unknown article ids), each with its first line and an example.
    """
    path = Path(path)
    lines = _read_lines(path)
    header = lines[_LINE][0] if lines.height else None
    if header is None or header.rstrip("\r") != HEADER:
        raise SubmissionError([Problem("header", f"expected {HEADER!r}", 1, 1, str(header))], path)
    rows = _parse(lines.slice(1))
    distinct = rows.get_column("_tokens").explode().unique()
    problems = _customer_problems(rows, _customer_ids(customers))
    problems += _prediction_problems(rows, distinct, _article_ids(articles), k)
    if problems:
        raise SubmissionError(problems, path)
    return ValidationReport(path=path, rows=rows.height, distinct_articles=distinct.len())


def _parse(rows: pl.DataFrame) -> pl.DataFrame:
    line = pl.col(_LINE).fill_null("").str.strip_suffix("\r")
    return rows.with_columns(
        line.str.count_matches(",", literal=True).alias("_commas"),
        line.str.split_exact(",", 1).struct.rename_fields([CUSTOMER_ID, PREDICTION]).alias("_f"),
    ).unnest("_f").with_columns(
        pl.col(PREDICTION).fill_null("").str.split(" ").alias("_tokens"),
    )


def _customer_problems(rows: pl.DataFrame, ids: pl.Series) -> list[Problem]:
    cid = pl.col(CUSTOMER_ID)
    problems = _first(rows, pl.col("_commas") != 1, "fields", "not exactly 2 comma-separated fields",
                      pl.col(_LINE).str.slice(0, 100))
    if rows.height != ids.len():
        problems.append(Problem("row_count", f"{rows.height} rows, customers.csv has {ids.len()}",
                                abs(rows.height - ids.len()), None, f"{rows.height} != {ids.len()}"))
    problems += _first(rows, ~cid.is_first_distinct(), "duplicate_customer", "customer_id repeated", cid)
    problems += _first(rows, ~cid.is_in(ids.implode()), "unknown_customer", "not in customers.csv", cid)
    return problems + _not_in(ids, rows[CUSTOMER_ID], "missing_customer", "customers.csv customer has no row")


def _prediction_problems(rows: pl.DataFrame, distinct: pl.Series, known: pl.Series, k: int) -> list[Problem]:
    """Count, repeats and format of each row's ids; ``distinct`` are all ids seen, checked once."""
    tokens = pl.col("_tokens")
    problems = _first(rows, tokens.list.len() != k, "prediction_count", f"not exactly {k} predictions",
                      pl.col(PREDICTION))
    problems += _first(rows, tokens.list.n_unique() != tokens.list.len(), "duplicate_prediction",
                       "article repeated within a row", pl.col(PREDICTION))
    malformed = ~distinct.str.contains(_ARTICLE_RE)
    wellformed = distinct.filter(~malformed)
    unknown = wellformed.filter(~wellformed.cast(pl.Int64).is_in(known.implode()))
    for kind, message, bad in (
        ("malformed_article", f"article id is not {ARTICLE_ID_DIGITS} digits", distinct.filter(malformed)),
        ("unknown_article", "article id not in articles.csv", unknown),
    ):
        if bad.len():
            found = rows.select("line_no", tokens).explode("_tokens").filter(tokens.is_in(bad.implode()))
            problems += _first(found, pl.lit(True), kind, message, tokens)
    return problems


def write_scored_submission(cfg: Config, ds: Dataset, predictions: pl.DataFrame, cutoff: dt.date,
                            path: Path | None = None) -> dict:
    """Write and validate a submission; on a synthetic world, also score it on the hidden target week."""
    path = path or cfg.output_dir / SUBMISSION_FILE
    fill = popular_last_week(ds.transactions.filter(pl.col("t_dat") < cutoff), cutoff, [0], cfg.k)
    write_submission(predictions, ds.customers, ds.articles, path, fill=fill[ARTICLE].to_list(), k=cfg.k)
    report = validate_submission(path, ds.customers, ds.articles, k=cfg.k)
    out = {"submission": str(path), "rows": report.rows}
    if has_truth(cfg, ds) and is_after_data(ds, cutoff):
        out["target_week"] = score(predictions, truth_for_week(cfg, ds, cutoff), cutoff, 7)
    return out


def kaggle_command(path: Path, message: str) -> str:
    """The line that uploads a submission to the competition."""
    return f'kaggle competitions submit -c h-and-m-personalized-fashion-recommendations -f {path} -m "{message}"'
