"""Wall time and peak RSS of hm_lib.data.prepare (rebuild, then reuse) and load, each in its own process.

    python benchmarks/bench_prepare.py data/raw                # the real Kaggle files
    python benchmarks/bench_prepare.py --synthetic-scale full  # the full-size synthetic world, in /tmp

Prints a markdown table. The synthetic world is written once to /tmp/hm_bench_raw_<scale> and reused.
"""
from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import tempfile
import time
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere without installing
from benchmarks.measure import peak_rss_mib, synthetic_raw  # noqa: E402
from hm_lib import data, schema  # noqa: E402



def _child(step: str, raw: str, processed: str) -> None:
    """Run one step in this process and print its figures as JSON."""
    start = time.perf_counter()
    if step == "load":
        rows = data.load(raw, processed).transactions.height
    else:
        rows = data.prepare(raw, processed, force=step == "prepare").rows
    print(json.dumps({"seconds": time.perf_counter() - start, "peak_rss_mib": peak_rss_mib(), "rows": rows}))


def _run(step: str, raw: Path, processed: Path) -> dict:
    cmd = [sys.executable, __file__, "--child", step, str(raw), "--processed", str(processed)]
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("raw", nargs="?", type=Path, help="folder with the three raw CSVs")
    parser.add_argument("--synthetic-scale", choices=("tiny", "small", "default", "full"),
                        help="measure on a synthetic world of this scale (written once, without images)")
    parser.add_argument("--processed", type=Path, help="output folder (default: a temporary folder)")
    parser.add_argument("--child", choices=("prepare", "reuse", "load"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    if args.child:
        return _child(args.child, str(args.raw), str(args.processed))
    raw = args.raw
    if raw is None:
        if not args.synthetic_scale:
            parser.error("give a raw folder or --synthetic-scale SCALE")
        raw = synthetic_raw(args.synthetic_scale)
    processed = args.processed or Path(tempfile.mkdtemp(prefix="hm_processed_"))
    size_gb = (raw / schema.TRANSACTIONS_FILE).stat().st_size / 1e9
    print(f"\nraw: {raw} (transactions {size_gb:.2f} GB), processed: {processed}\n")
    print("| step | rows | seconds | peak RSS (MiB) |\n|---|---:|---:|---:|")
    for step in ("prepare", "reuse", "load"):
        r = _run(step, raw, processed)
        print(f"| {step} | {r['rows']:,} | {r['seconds']:.1f} | {r['peak_rss_mib']:,.0f} |", flush=True)


if __name__ == "__main__":
    main()
