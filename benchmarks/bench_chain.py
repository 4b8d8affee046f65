"""The whole chain on a synthetic world, as a user runs it: seconds and peak memory per stage.

    python -m benchmarks.bench_chain --synthetic-scale full [--validate] [--force] [--from STAGE] [--world DIR]
                                     [--out FILE.json]

Generates the world with its photos when missing, then runs `hm run` in a child process (no
``--scale``: the chain picks it from the data) and follows its ``[i/n] stage ...`` lines. The peak
resident memory of the whole process tree (hm, papermill's kernel, their workers) is sampled every
half second and charged to the stage running, and within it to the step whose progress bar was drawn last
(e.g. "labelled weeks", "ranking shards"; lines without a bar, such as the ranker's "N trees" line, open a
step too). Prints Markdown tables for docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psutil

from benchmarks.measure import machine, machine_line, world_with_photos

STAGE_LINE = re.compile(r"^\[(\d+)/(\d+)\] (\S+) \.\.\.(?: (.+))?$")
STEP_LINE = re.compile(r"^([A-Za-z][\w ,()'./-]{2,60}?):\s+\d+%\|")  # a tqdm bar: its description
STEP_MARKS = (re.compile(r"^ranker: \d+ trees"), re.compile(r"^cluster: .*restarted"))
GIB = 1 << 30


def tree_rss(proc: psutil.Process) -> int:
    """Resident bytes of a process and all its descendants (those that vanish meanwhile count 0)."""
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def follow(command: list[str], log_path: Path) -> dict[str, Any]:
    """Run ``command``; per stage: seconds (from its start and end lines) and the tree's peak RSS."""
    stages: dict[str, dict[str, Any]] = {}
    current = ["(before the first stage)"]
    step = ["(start)"]
    peaks: dict[str, int] = {}
    step_peaks: dict[tuple[str, str], int] = {}
    start = time.perf_counter()
    with log_path.open("w") as log:
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
        ps = psutil.Process(proc.pid)
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                rss, key = tree_rss(ps), (current[0], step[0])
                peaks[current[0]] = max(peaks.get(current[0], 0), rss)
                step_peaks[key] = max(step_peaks.get(key, 0), rss)
                done.wait(0.5)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        assert proc.stdout is not None
        for line in proc.stdout:
            log.write(line)
            log.flush()
            text = line.strip()
            bar = STEP_LINE.match(text)
            if bar:
                step[0] = bar.group(1)
            elif any(mark.match(text) for mark in STEP_MARKS):
                step[0] = text[:40]
            match = STAGE_LINE.match(text)
            if match:
                step[0] = "(start)"
                name = match.group(3)
                stages.setdefault(name, {"started_s": round(time.perf_counter() - start, 1)})
                current[0] = name
                if match.group(4):
                    stages[name]["seconds"] = round(time.perf_counter() - start - stages[name]["started_s"], 1)
        returncode = proc.wait()
        done.set()
        sampler.join()
    for name, row in stages.items():
        row["peak_rss_gib"] = round(peaks.get(name, 0) / GIB, 2)
    steps = [{"stage": stage, "step": name, "peak_rss_gib": round(rss / GIB, 2)}
             for (stage, name), rss in step_peaks.items()]
    return {"returncode": returncode, "seconds": round(time.perf_counter() - start, 1), "stages": stages,
            "steps": steps, "peak_rss_gib": round(max(peaks.values(), default=0) / GIB, 2)}


def table(result: dict[str, Any]) -> str:
    rows = ["| stage | seconds | peak RSS (GiB) |", "|---|---:|---:|"]
    rows += [f"| {name} | {row.get('seconds', 'unfinished')} | {row['peak_rss_gib']} |"
             for name, row in result["stages"].items()]
    rows.append(f"| **whole `hm run`** | **{result['seconds']}** | **{result['peak_rss_gib']}** |")
    rows += ["", "| stage | step (the progress bar drawn last) | peak RSS (GiB) |", "|---|---|---:|"]
    rows += [f"| {s['stage']} | {s['step']} | {s['peak_rss_gib']} |" for s in result.get("steps", [])]
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthetic-scale", default="full", choices=("tiny", "small", "default", "full"))
    parser.add_argument("--world", type=Path, default=None, help="default /tmp/hm_chain_<scale>")
    parser.add_argument("--validate", action="store_true")
    parser.add_argument("--force", action="store_true", help="rerun every stage (a cold run; caches stay)")
    parser.add_argument("--from", dest="from_stage", default=None, help="rerun from this stage (hm run --from)")
    parser.add_argument("--out", type=Path, default=None, help="the figures' JSON file (default WORLD/chain.json)")
    args = parser.parse_args()
    world = args.world or Path(f"/tmp/hm_chain_{args.synthetic_scale}")
    figures: dict[str, Any] = {"scale": args.synthetic_scale, "validate": args.validate, "machine": machine()}
    start = time.perf_counter()
    if world_with_photos(world, args.synthetic_scale):
        figures["generate_seconds"] = round(time.perf_counter() - start, 1)
    command = [sys.executable, "-m", "hm_lib.cli", "run", "--data", str(world / "raw"), "--work", str(world),
               "--outputs", str(world / "outputs"), *(["--validate"] if args.validate else []),
               *(["--force"] if args.force else []), *(["--from", args.from_stage] if args.from_stage else [])]
    name = "chain.validate" if args.validate else "chain"
    figures.update(follow(command, world / f"{name}.log"))
    out = args.out or world / f"{name}.json"
    out.write_text(json.dumps(figures, indent=2) + "\n")
    print(machine_line())
    print(table(figures))
    print(f"figures: {out}; log: {world / f'{name}.log'}")
    sys.exit(figures["returncode"])


if __name__ == "__main__":
    main()
