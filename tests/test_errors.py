"""`hm` run as a user runs it: bad input is one line on stderr (no traceback) and exit code 2."""
from __future__ import annotations

import datetime as dt
import gzip
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import polars as pl
import pytest

from hm_lib import schema
from hm_lib.archive import KAGGLE_ZIP
from hm_lib.data import RawDataError, RawDataWarning, prepare
from raw_fixture import read_raw, set_value, write_raw

TX = schema.TRANSACTIONS_FILE


def hm(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hm_lib.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def one_line_error(result: subprocess.CompletedProcess, code: int, *fragments: str) -> str:
    """The error line of a failed command (stderr's last; before it only progress lines), checked for its
    exit code and its fragments."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr and lines, result.stderr
    err = lines[-1]
    assert err.startswith("hm ") and not any(line.startswith("hm ") for line in lines[:-1]), result.stderr
    for fragment in fragments:
        assert fragment in err, err
    return err


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    return write_raw(tmp_path / "raw")


def set_row(raw: Path, row: int, column: str, value: str) -> None:
    set_value(raw, TX, column, row, value)


def prepare_args(raw: Path) -> list[str]:
    return ["prepare", "--data", str(raw), "--work", str(raw.parent)]


def test_malformed_value_is_one_line_with_exit_code_2(raw: Path) -> None:
    set_row(raw, 6, "price", "abc")
    result = hm(*prepare_args(raw), cwd=raw.parent)
    one_line_error(result, 2, f"hm prepare: {TX}: column 'price', data row 6", "'abc'")
    verbose = hm("-v", *prepare_args(raw), cwd=raw.parent)
    assert verbose.returncode == 2 and "Traceback" in verbose.stderr  # -v shows where it came from


def test_missing_file_and_header_only_transactions(raw: Path) -> None:
    header = (raw / TX).read_text().splitlines()[0]
    (raw / TX).write_text(header + "\n")
    one_line_error(hm(*prepare_args(raw), cwd=raw.parent), 2, f"{TX} in", "no data rows (only its header)")
    (raw / TX).unlink()
    one_line_error(hm(*prepare_args(raw), cwd=raw.parent), 2, f"{TX} not found in")


def test_a_date_after_today_is_refused_with_its_row(raw: Path) -> None:
    set_row(raw, 17, "t_dat", "2031-01-01")
    one_line_error(hm(*prepare_args(raw), cwd=raw.parent), 2, "column 't_dat', data row 17 ", "2031-01-01",
                   "after today", "--allow-future")
    # --allow-future accepts the future, but one row years after the others is still a typo
    one_line_error(hm(*prepare_args(raw), "--allow-future", cwd=raw.parent), 2, "data row 17 ",
                   "after the span 2020-08-20 .. 2020-09-16")


def test_a_far_early_date_is_refused(raw: Path) -> None:
    set_row(raw, 1, "t_dat", "1999-12-31")
    with pytest.raises(RawDataError, match=r"data row 1 \(1 row, dated 1999-12-31\).*before the span 2020-08-20"):
        prepare(raw, raw.parent / "processed")


def test_future_data_is_accepted_with_allow_future(tmp_path: Path) -> None:
    raw = write_raw(tmp_path / "raw")
    shift = (dt.date.today() + dt.timedelta(days=10)) - dt.date(2020, 9, 16)
    shifted = read_raw(raw, TX).with_columns((pl.col("t_dat").str.to_date() + shift).dt.to_string("%Y-%m-%d"))
    shifted.write_csv(raw / TX)
    with pytest.raises(RawDataError, match="after today"):
        prepare(raw, tmp_path / "processed")
    report = prepare(raw, tmp_path / "processed", allow_future=True)
    assert report.end_date == dt.date.today() + dt.timedelta(days=10)


def test_zero_and_negative_prices_are_counted_in_a_warning(raw: Path) -> None:
    set_row(raw, 3, "price", "-0.01")
    set_row(raw, 9, "price", "0")
    with pytest.warns(RawDataWarning, match=r"rows with a zero or negative price: 2 of 400"):
        report = prepare(raw, raw.parent / "processed")
    assert report.rows == 400  # kept
    result = hm(*prepare_args(raw), "--force", cwd=raw.parent)
    assert result.returncode == 0 and "warning: RawDataWarning: transactions_train.csv: rows with a zero" in result.stderr


def test_unknown_set_section_or_field_lists_the_known_ones(raw: Path) -> None:
    run = ["run", "--data", str(raw), "--work", str(raw.parent), "--scale", "tiny"]
    one_line_error(hm(*run, "--set", "negativs__ratio=4", cwd=raw.parent), 2,
                   "unknown settings section 'negativs'", "candidates, negatives, image, ensemble, ranker")
    one_line_error(hm(*run, "--set", "negatives__ratoi=4", cwd=raw.parent), 2,
                   "unknown setting 'negatives__ratoi'", "ratio")
    one_line_error(hm(*run, "--set", "ratio=4", cwd=raw.parent), 2, "SECTION__FIELD=VALUE")
    one_line_error(hm(*run, "--set", "negatives__ratio=five", cwd=raw.parent), 2,
                   "negatives__ratio='five': expected int such as 10")


def test_missing_stage_output_exits_1(tmp_path: Path) -> None:
    write_raw(tmp_path / "raw")
    result = hm("features", "materialize", "--data", str(tmp_path / "raw"), "--work", str(tmp_path), "--scale",
                "tiny", cwd=tmp_path)
    one_line_error(result, 1, "hm features: no feature", "hm features apply")


def test_bad_submission_is_one_line(raw: Path) -> None:
    bad = raw.parent / "submission.csv"
    bad.write_text("customer_id,prediction\nabc,0108775015\n")
    one_line_error(hm("validate-submission", str(bad), "--data", str(raw), "--work", str(raw.parent), cwd=raw.parent),
                   2, "hm validate-submission: ", "problem(s): ", "; ")


def _tables(processed: Path) -> dict[str, pl.DataFrame]:
    return {name: pl.read_parquet(processed / f"{name}.parquet") for name in ("transactions", "customers", "articles")}


def test_the_kaggle_zip_and_gzipped_csvs_read_as_the_folder(tiny_world, tmp_path: Path) -> None:
    prepare(tiny_world.raw, tmp_path / "plain" / "processed")
    expected = _tables(tmp_path / "plain" / "processed")
    archive = tmp_path / "download" / KAGGLE_ZIP
    archive.parent.mkdir()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(tiny_world.raw.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(tiny_world.raw).as_posix())
        zf.writestr("sample_submission.csv", "customer_id,prediction\n")
    for data in (archive, archive.parent):  # the zip itself, or the folder holding it
        work = tmp_path / f"work-{data.name}"
        result = hm("prepare", "--data", str(data), "--work", str(work), cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        got = _tables(work / "processed")
        assert all(got[name].equals(expected[name]) for name in expected)
        photos = sorted(p.relative_to(work / "raw_unpacked").as_posix()
                        for p in (work / "raw_unpacked" / schema.IMAGES_DIR).rglob("*.jpg"))
        assert photos == sorted(p.relative_to(tiny_world.raw).as_posix()
                                for p in (tiny_world.raw / schema.IMAGES_DIR).rglob("*.jpg"))
        assert len(photos) > 0.9 * expected["articles"].height
    gz = tmp_path / "gz"
    shutil.copytree(tiny_world.raw, gz)
    with (gz / TX).open("rb") as read, gzip.open(gz / f"{TX}.gz", "wb") as write:
        shutil.copyfileobj(read, write)
    (gz / TX).unlink()
    result = hm("prepare", "--data", str(gz), "--work", str(tmp_path / "work-gz"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert _tables(tmp_path / "work-gz" / "processed")["transactions"].equals(expected["transactions"])


def test_a_zip_without_the_competition_files_is_named(tmp_path: Path) -> None:
    archive = tmp_path / KAGGLE_ZIP
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("articles.csv", "article_id\n")
    one_line_error(hm("prepare", "--data", str(archive), "--work", str(tmp_path), cwd=tmp_path), 2,
                   f"{archive}: customers.csv, transactions_train.csv not in the archive")
