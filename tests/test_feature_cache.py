"""The image feature cache filled by two processes at once: the second waits, then reuses the first's rows."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import polars as pl

# A process that fills the cache with ids [lo, hi); computing sleeps, so two such processes overlap.
FILL = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    import numpy as np
    from hm_lib.image_model.cache import cached_features

    folder, lo, hi = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    ids = np.arange(lo, hi, dtype=np.int32)
    states = np.stack([ids.astype(np.int64), np.full(ids.size, 7)], axis=1)

    def compute(positions):
        time.sleep(1.5)
        yield positions, np.repeat(ids[positions, None], 4, axis=1).astype(np.float32), np.zeros(positions.size, np.int8)

    table = cached_features(folder, ids, states, (4,), compute, "test")
    assert (table.take(np.arange(ids.size))[:, 0] == ids).all(), "rows of other articles"
""")


def test_two_processes_fill_one_cache_without_losing_rows(tmp_path: Path) -> None:
    script = tmp_path / "fill.py"
    script.write_text(FILL)
    folder = tmp_path / "cache"
    procs = [subprocess.Popen([sys.executable, str(script), str(folder), lo, hi], stderr=subprocess.PIPE, text=True)
             for lo, hi in (("0", "100"), ("50", "150"))]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    index = pl.read_parquet(folder / "index.parquet")
    assert sorted(index["article_id"].to_list()) == list(range(150))  # both processes' rows, each once
    values = np.load(folder / "features.npy")
    np.testing.assert_array_equal(values[index["row"].to_numpy(), 0], index["article_id"].to_numpy())
