"""hm_lib.digest: what changes a digest and what does not."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl

from hm_lib.digest import Digest, digest
from hm_lib.stamp import Stamp


def test_parts_are_separated_and_ordered() -> None:
    assert digest("ab", "c") != digest("a", "bc")
    assert digest("a", "b") != digest("b", "a")
    assert digest("a", None) != digest("a") != digest("a", "")


def test_arrays_count_their_dtype_and_shape() -> None:
    values = np.arange(6, dtype=np.int32)
    assert digest(values) == digest(values.copy()) == digest(values[::-1][::-1])
    assert digest(values) != digest(values.astype(np.int64))
    assert digest(values) != digest(values.reshape(2, 3))
    assert digest(pl.Series(values)) == digest(values)
    days = pl.Series([dt.date(2020, 9, 1), dt.date(2020, 9, 2)])
    assert digest(days) == digest(days.to_physical().to_numpy())


def test_json_values_ignore_key_order_and_write_dates_and_paths() -> None:
    assert digest({"a": 1, "b": [1, 2]}) == digest({"b": [1, 2], "a": 1})
    assert digest({"day": dt.date(2020, 9, 1), "at": Path("x")}) == digest({"day": "2020-09-01", "at": "x"})
    assert digest((1, 2)) == digest([1, 2])


def test_incremental_equals_one_call_and_size_is_kept() -> None:
    assert Digest(size=12).add("a").add(np.ones(3), {"k": 1}).hexdigest() == digest("a", np.ones(3), {"k": 1},
                                                                                    size=12)
    assert len(digest("a", size=10)) == 20


def test_a_stamp_vouches_only_for_its_own_inputs(tmp_path: Path) -> None:
    stamp = Stamp(tmp_path / "stage" / "stamp.json")
    assert stamp.current("abc") is None
    stamp.write("abc", rows=3)
    assert stamp.current("abc") == {"digest": "abc", "rows": 3} and stamp.current("abd") is None
    stamp.invalidate()
    assert stamp.current("abc") is None and not stamp.path.exists()
    stamp.invalidate()  # nothing to remove: no error
