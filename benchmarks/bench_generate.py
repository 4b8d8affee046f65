"""Time and peak memory of `hm generate` at each scale, each in a fresh process.

    python benchmarks/bench_generate.py tiny small default full [--out /tmp/hm_bench_generate] [--no-images]

Prints a markdown table (scale, rows, images, seconds, peak RSS). Full scale is written without
images (as the issue's target states) unless --images-at-full is given.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

CHILD = """
import json, resource, sys, time
from hm_lib.synthetic import generate
t0 = time.perf_counter()
rep = generate(sys.argv[1], scale=sys.argv[2], seed=42, images=json.loads(sys.argv[3]), force=True, progress=False)
seconds = time.perf_counter() - t0
peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print(json.dumps({"rows": rep.transactions, "customers": rep.customers, "articles": rep.articles,
                  "images": rep.images, "seconds": seconds, "peak_mib": peak / 1024}))
"""


def run(scale: str, out: Path, images: bool | None) -> dict:
    proc = subprocess.run([sys.executable, "-c", CHILD, str(out / scale / "raw"), scale, json.dumps(images)],
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("scales", nargs="+", choices=("tiny", "small", "default", "full"))
    p.add_argument("--out", type=Path, default=Path("/tmp/hm_bench_generate"))
    p.add_argument("--no-images", action="store_true")
    p.add_argument("--images-at-full", action="store_true")
    args = p.parse_args()
    print("| scale | customers | articles | transactions | images | seconds | peak RSS (MiB) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for scale in args.scales:
        images = False if args.no_images else (True if scale != "full" or args.images_at_full else False)
        r = run(scale, args.out, images)
        print(f"| {scale} | {r['customers']:,} | {r['articles']:,} | {r['rows']:,} | {r['images']:,} | "
              f"{r['seconds']:.1f} | {r['peak_mib']:,.0f} |", flush=True)


if __name__ == "__main__":
    main()
