"""Kaggle submission: round trip, fill-up, gz copy, and every validation error."""
from __future__ import annotations

import gzip
from pathlib import Path

import polars as pl
import pytest

from hm_lib.schema import ARTICLE, CUSTOMER, RANK, format_article_id
from hm_lib.submission import (
    HEADER, SubmissionError, gz_path, validate_submission, write_submission,
)

IDS = [c * 64 for c in "abcd"]
ARTICLES = pl.DataFrame({ARTICLE: list(range(108775015, 108775045))}, schema={ARTICLE: pl.Int32})
FILL = ARTICLES[ARTICLE][:12].to_list()


@pytest.fixture
def customers() -> pl.DataFrame:
    return pl.DataFrame({CUSTOMER: [0, 1, 2, 3], "customer_id": IDS}, schema_overrides={CUSTOMER: pl.Int32})


def preds(lists: dict[int, list[int]]) -> pl.DataFrame:
    rows = [(c, a, r) for c, arts in lists.items() for r, a in enumerate(arts, start=1)]
    return pl.DataFrame(rows, schema={CUSTOMER: pl.Int32, ARTICLE: pl.Int32, RANK: pl.Int32}, orient="row")


def full(offset: int) -> list[int]:
    return ARTICLES[ARTICLE][offset:offset + 12].to_list()


def read(path: Path) -> list[str]:
    return path.read_text().splitlines()


@pytest.fixture
def valid(tmp_path: Path, customers: pl.DataFrame) -> Path:
    lists = {c: full(c) for c in range(4)}
    return write_submission(preds(lists), customers, ARTICLES, tmp_path / "submission.csv")


def test_round_trip(valid: Path, customers: pl.DataFrame) -> None:
    lines = read(valid)
    assert lines[0] == HEADER and len(lines) == 5
    assert lines[2] == IDS[1] + "," + " ".join(format_article_id(a) for a in full(1))
    report = validate_submission(valid, customers, ARTICLES)
    assert (report.rows, report.distinct_articles) == (4, 15)
    assert validate_submission(gz_path(valid), customers, ARTICLES[ARTICLE].to_list()).rows == 4
    assert sorted(p.name for p in valid.parent.iterdir()) == ["submission.csv", "submission.csv.gz"]


def test_gz_equals_csv(valid: Path) -> None:
    with gzip.open(gz_path(valid), "rt") as f:
        assert f.read() == valid.read_text()


def test_customers_order_and_csv_path(tmp_path: Path, customers: pl.DataFrame) -> None:
    shuffled = customers.reverse()
    path = write_submission(preds({3: full(0)}), shuffled, ARTICLES, tmp_path / "s.csv", fill=FILL)
    assert [line[:1] for line in read(path)[1:]] == ["d", "c", "b", "a"]
    customers.select("customer_id").write_csv(tmp_path / "customers.csv")
    assert validate_submission(path, tmp_path / "customers.csv", ARTICLES).rows == 4


def test_fill_up_short_lists(tmp_path: Path, customers: pl.DataFrame) -> None:
    a = ARTICLES[ARTICLE].to_list()
    pred = preds({0: [a[20], a[20], a[3], a[21]], 2: full(5)})  # a repeat, one fill article already there
    path = write_submission(pred, customers, ARTICLES, tmp_path / "s.csv", fill=FILL)
    rows = [line.split(",")[1].split() for line in read(path)[1:]]
    ids = [format_article_id(x) for x in a]
    assert rows[0] == [ids[20], ids[3], ids[21]] + [x for x in ids[:12] if x != ids[3]][:9]
    assert rows[1] == ids[:12]
    assert rows[2] == ids[5:17]
    validate_submission(path, customers, ARTICLES)


def test_writer_errors(tmp_path: Path, customers: pl.DataFrame) -> None:
    path = tmp_path / "s.csv"
    with pytest.raises(SubmissionError, match="pass fill") as err:
        write_submission(preds({0: full(0)}), customers, ARTICLES, path)
    assert err.value.kinds == ["short_list"] and err.value.problems[0].count == 3
    with pytest.raises(SubmissionError, match="fewer than 12 new"):
        write_submission(preds({0: full(0)}), customers, ARTICLES, path, fill=FILL[:5])
    with pytest.raises(SubmissionError) as err:
        write_submission(preds({9: [1]}), customers, ARTICLES, path, fill=FILL)
    assert err.value.kinds == ["unknown_customer", "unknown_article"]
    with pytest.raises(SubmissionError, match="fill article"):
        write_submission(preds({}), customers, ARTICLES, path, fill=FILL + [5])
    assert not any(tmp_path.iterdir())  # nothing half-written


def edit(path: Path, change) -> Path:
    lines = read(path)
    change(lines)
    path.write_text("\n".join(lines) + "\n")
    return path


def set_line(n: int, text: str):
    return lambda lines: lines.__setitem__(n - 1, text)


def replace_in(n: int, old: str, new: str):
    return lambda lines: lines.__setitem__(n - 1, lines[n - 1].replace(old, new, 1))


P = [format_article_id(a) for a in ARTICLES[ARTICLE].to_list()]


@pytest.mark.parametrize(("change", "kind", "line", "example"), [
    (set_line(1, "customer_id,predictions"), "header", 1, "customer_id,predictions"),
    (lambda lines: lines.pop(), "row_count", None, "3 != 4"),
    (lambda lines: lines.pop(), "missing_customer", None, IDS[3]),
    (replace_in(3, IDS[1], IDS[0]), "duplicate_customer", 3, IDS[0]),
    (replace_in(4, IDS[2], "e" * 64), "unknown_customer", 4, "e" * 64),
    (replace_in(2, " " + P[11], ""), "prediction_count", 2, " ".join(P[:11])),
    (replace_in(3, P[2], P[1]), "duplicate_prediction", 3, " ".join([P[1], P[1]] + P[3:13])),
    (replace_in(5, P[5], P[5][1:]), "malformed_article", 5, P[5][1:]),
    (replace_in(4, P[4], "0000000001"), "unknown_article", 4, "0000000001"),
    (replace_in(2, ",", ",,"), "fields", 2, (IDS[0] + ",," + " ".join(P[:12]))[:100]),  # example cut at 100
])
def test_validation_errors(valid: Path, customers: pl.DataFrame, change, kind: str, line: int | None,
                           example: str) -> None:
    edit(valid, change)
    with pytest.raises(SubmissionError) as err:
        validate_submission(valid, customers, ARTICLES)
    problem = next(p for p in err.value.problems if p.kind == kind)
    assert (problem.line, problem.example) == (line, example)
    assert kind in str(err.value) and str(valid) in str(err.value)


def test_validation_error_in_gz(valid: Path, customers: pl.DataFrame) -> None:
    gz = gz_path(valid)
    lines = read(valid)[:-1]
    gz.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    with pytest.raises(SubmissionError) as err:
        validate_submission(gz, customers, ARTICLES)
    assert err.value.kinds == ["row_count", "missing_customer"]


def test_empty_file(tmp_path: Path, customers: pl.DataFrame) -> None:
    (tmp_path / "s.csv").write_text("")
    with pytest.raises(SubmissionError, match="header"):
        validate_submission(tmp_path / "s.csv", customers, ARTICLES)
