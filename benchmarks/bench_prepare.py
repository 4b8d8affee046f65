"""Wall time and peak RSS of hm_lib.data.prepare (rebuild, then reuse) and load, each in its own process.

    python benchmarks/bench_prepare.py data/raw              # the real Kaggle files
    python benchmarks/bench_prepare.py --fake-rows 31788324  # full-size fake raw files in /tmp

Prints a markdown table. Fake files are written once to /tmp/hm_fake_raw_<rows> and reused.
"""
from __future__ import annotations

import argparse
import json
import logging
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere without installing
from hm_lib import data, schema  # noqa: E402

N_CUSTOMERS = 1_371_980
N_ARTICLES = 105_542
N_DAYS = 734
CHUNK = 2_000_000


def _hex(rng: np.random.Generator, n: int) -> pl.Series:
    chars = np.frombuffer(b"0123456789abcdef", dtype="S1")[rng.integers(0, 16, (n, schema.HEX_ID_LENGTH))]
    return pl.Series(chars.view(f"S{schema.HEX_ID_LENGTH}").ravel()).cast(pl.String)


def _fake_articles(n: int) -> pl.DataFrame:
    i = pl.int_range(n, eager=True)
    ids = (108_775 + i // 3) * 1000 + i % 3
    ints = {c: (i % 50 + 1).cast(pl.String) for c in schema.ARTICLE_INT_COLUMNS}
    texts = {c: pl.Series(["some text"] * n) for c in schema.ARTICLE_COLUMNS if c not in ints}
    return pl.DataFrame({
        **texts, **ints,
        "article_id": ids.cast(pl.String).str.zfill(10),
        "product_code": (ids // 1000).cast(pl.String).str.zfill(7),
        "detail_desc": pl.Series(["A top in soft jersey, with a round neckline."] * n),
    }).select(schema.ARTICLE_COLUMNS)


def _fake_customers(rng: np.random.Generator, n: int) -> pl.DataFrame:
    return pl.DataFrame({
        "customer_id": _hex(rng, n), "FN": pl.Series(["1.0", None] * (n // 2) + ["1.0"] * (n % 2)),
        "Active": None, "club_member_status": "ACTIVE", "fashion_news_frequency": "NONE",
        "age": rng.integers(16, 99, n).astype(float).astype(str), "postal_code": _hex(rng, n),
    }).with_columns(pl.col("Active").cast(pl.String))


def make_fake_raw(folder: Path, rows: int, seed: int = 0) -> Path:
    """Full-size raw files (real row widths, dates sorted) written chunk by chunk."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    articles, customers = _fake_articles(N_ARTICLES), _fake_customers(rng, N_CUSTOMERS)
    articles.write_csv(folder / schema.ARTICLES_FILE)
    customers.write_csv(folder / schema.CUSTOMERS_FILE)
    days = pl.date_range(pl.date(2018, 9, 20), pl.date(2020, 9, 22), eager=True).dt.to_string("%Y-%m-%d")
    tmp = folder / f".{schema.TRANSACTIONS_FILE}.part"
    with tmp.open("wb") as f:
        for start in range(0, rows, CHUNK):
            n = min(CHUNK, rows - start)
            day = (np.arange(start, start + n) * len(days)) // rows
            pl.DataFrame({
                "t_dat": days.gather(day),
                "customer_id": customers["customer_id"].gather(rng.integers(0, N_CUSTOMERS * 99 // 100, n)),
                "article_id": articles["article_id"].gather(rng.zipf(1.3, n) % N_ARTICLES),
                "price": rng.gamma(2.0, 0.014, n).clip(0.0002, 0.59),
                "sales_channel_id": rng.choice([1, 2], n, p=[0.3, 0.7]),
            }).write_csv(f, include_header=start == 0, float_precision=16)
    tmp.rename(folder / schema.TRANSACTIONS_FILE)
    return folder


def _peak_rss_mib() -> float:
    """This process's peak resident memory: VmHWM (reset by exec, unlike ru_maxrss) where Linux has it."""
    status = Path("/proc/self/status")
    if status.is_file():
        line = next(x for x in status.read_text().splitlines() if x.startswith("VmHWM:"))
        return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(step: str, raw: str, processed: str) -> None:
    """Run one step in this process and print its figures as JSON."""
    start = time.perf_counter()
    if step == "load":
        rows = data.load(raw, processed).transactions.height
    else:
        rows = data.prepare(raw, processed, force=step == "prepare").rows
    print(json.dumps({"seconds": time.perf_counter() - start, "peak_rss_mib": _peak_rss_mib(), "rows": rows}))


def _run(step: str, raw: Path, processed: Path) -> dict:
    cmd = [sys.executable, __file__, "--child", step, str(raw), "--processed", str(processed)]
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("raw", nargs="?", type=Path, help="folder with the three raw CSVs")
    parser.add_argument("--fake-rows", type=int, help="generate fake raw files with this many transactions")
    parser.add_argument("--processed", type=Path, help="output folder (default: a temporary folder)")
    parser.add_argument("--child", choices=("prepare", "reuse", "load"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    if args.child:
        return _child(args.child, str(args.raw), str(args.processed))
    raw = args.raw
    if raw is None:
        if not args.fake_rows:
            parser.error("give a raw folder or --fake-rows N")
        raw = Path(tempfile.gettempdir()) / f"hm_fake_raw_{args.fake_rows}"
        if not (raw / schema.TRANSACTIONS_FILE).is_file():
            start = time.perf_counter()
            make_fake_raw(raw, args.fake_rows)
            print(f"generated {raw} in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    processed = args.processed or Path(tempfile.mkdtemp(prefix="hm_processed_"))
    size_gb = (raw / schema.TRANSACTIONS_FILE).stat().st_size / 1e9
    print(f"\nraw: {raw} (transactions {size_gb:.2f} GB), processed: {processed}\n")
    print("| step | rows | seconds | peak RSS (MiB) |\n|---|---:|---:|---:|")
    for step in ("prepare", "reuse", "load"):
        r = _run(step, raw, processed)
        print(f"| {step} | {r['rows']:,} | {r['seconds']:.1f} | {r['peak_rss_mib']:,.0f} |", flush=True)


if __name__ == "__main__":
    main()
