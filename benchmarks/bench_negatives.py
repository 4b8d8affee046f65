"""Wall time and peak RSS of hm_lib.negatives.build_pairs (draw, then reuse), each in its own process.

    python benchmarks/bench_negatives.py --synthetic-scale full   # the full-size synthetic world, in /tmp
    python benchmarks/bench_negatives.py data/raw                 # the real Kaggle files

The cut-off is the day after the data (submission mode); the window and ratio are the defaults of
NegativeSettings for the scale. The synthetic world is written once to /tmp/hm_bench_raw_<scale>/raw
(without images) and reused, as by bench_prepare.py. Prints a markdown table and the draw's report.
"""
from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere without installing
from benchmarks.measure import peak_rss_mib, synthetic_raw  # noqa: E402
from hm_lib import cutoffs  # noqa: E402
from hm_lib.config import Config  # noqa: E402
from hm_lib.data import load  # noqa: E402
from hm_lib.negatives import NegativeSettings, build_pairs, split_pairs  # noqa: E402


def _child(step: str, raw: Path, work: Path, scale: str, seed: int) -> None:
    """Load the data, run one step in this process, and print its figures as JSON."""
    cfg = Config.for_scale(scale, data_dir=raw, work_dir=work, seed=seed)
    start = time.perf_counter()
    ds = load(cfg.data_dir, cfg.processed_dir)
    loaded = time.perf_counter()
    cutoff = cutoffs.cutoff_for(cfg, ds)
    settings = NegativeSettings.for_scale(scale)
    result = build_pairs(cfg, ds, cutoff, settings, force=step == "draw")
    built = time.perf_counter()
    split = split_pairs(result.pairs, cutoff, settings, cfg.seed)
    out = {"load_seconds": loaded - start, "seconds": built - loaded,
           "split_seconds": time.perf_counter() - built, "peak_rss_mib": peak_rss_mib(),
           "pairs": result.pairs.height, "report": result.report.to_json(), "split": split.summary()}
    print(json.dumps(out))


def _run(step: str, raw: Path, work: Path, scale: str, seed: int) -> dict:
    cmd = [sys.executable, __file__, str(raw), "--child", step, "--work", str(work), "--scale", scale,
           "--seed", str(seed)]
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("raw", nargs="?", type=Path, help="folder with the three raw CSVs")
    parser.add_argument("--synthetic-scale", choices=("tiny", "small", "default", "full"),
                        help="measure on a synthetic world of this scale (written once, without images)")
    parser.add_argument("--work", type=Path,
                        help="work folder: processed/ and negatives/ (default: the folder above raw)")
    parser.add_argument("--scale", default="full", help="settings scale when RAW is given (default: full)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--child", choices=("draw", "reuse"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    if args.child:
        return _child(args.child, args.raw, args.work, args.scale, args.seed)
    raw, scale = args.raw, args.scale
    if raw is None:
        if not args.synthetic_scale:
            parser.error("give a raw folder or --synthetic-scale SCALE")
        scale = args.synthetic_scale
        raw = synthetic_raw(scale)
    work = args.work or raw.parent
    load(raw, work / "processed")  # prepare outside the measured steps
    print(f"\nraw: {raw}, work: {work}\n")
    print("| step | positives | negatives | seconds | load (s) | split (s) | peak RSS (MiB) |\n"
          "|---|---:|---:|---:|---:|---:|---:|")
    for step in ("draw", "reuse"):
        r = _run(step, raw, work, scale, args.seed)
        rep = r["report"]
        print(f"| {step} | {rep['positives']:,} | {sum(rep['negatives'].values()):,} | {r['seconds']:.2f} | "
              f"{r['load_seconds']:.2f} | {r['split_seconds']:.2f} | {r['peak_rss_mib']:,.0f} |", flush=True)
    print(f"\nreport: {json.dumps(rep)}\nsplit: {json.dumps(r['split'])}")


if __name__ == "__main__":
    main()
