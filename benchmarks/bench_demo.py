"""The demo's preparation time, cold and warm, and how soon `hm demo` serves its page, in headless Chromium.

    python benchmarks/bench_demo.py                               # data/raw and the chain's outputs in data/
    python benchmarks/bench_demo.py --data DIR --source WORK --scale default --runs 5

Copies what the demo is made from into a new work folder: from SOURCE, the processed data and,
for the latest cut-off with ranker predictions, its candidates, feature tables and predictions (and
the relevance scorers). Then, each in its own process:

1. `hm demo --prepare-only`, cold (the feature store and the artefacts are built), then warm (reused);
2. `runs` times, `hm demo --port P` with its artefacts up to date. Chromium is already running (its
   cache disabled: every load fetches the page's scripts, as a first visit does) and opens the page as
   soon as the server's health endpoint answers. The clock starts with `hm demo` and stops when the
   first page is done (the script has finished; the history, recommendations with their reasons and
   candidates are on screen with their images loaded), then when the customer's features, read from
   the Feast store opened in the background, are shown. The server's CPU seconds until its first page
   is done tell what the wall time would be on an idle machine, whatever else shares the cores.

Prints a markdown table; needs Debian's `chromium` (Linux: CPU times from /proc).
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from browser import FEATURES_SHOWN, FIRST_PAGE_DONE, Chromium, free_port, healthy, wait_for  # noqa: E402

HM = str(Path(sys.executable).with_name("hm"))


def copy_inputs(source: Path, work: Path) -> str:
    """The demo's inputs from ``source`` into ``work``; returns their cut-off."""
    found = sorted(source.glob("predictions/cutoff=*/ranker.parquet"))
    if not found:
        sys.exit(f"no ranker predictions in {source}/predictions: run the chain (make run) first")
    cutoff = found[-1].parent.name
    for folder in ("processed", f"candidates/{cutoff}", f"features/{cutoff}", f"predictions/{cutoff}", "relevance"):
        if (source / folder).is_dir():
            shutil.copytree(source / folder, work / folder)
    return cutoff.partition("=")[2]


def prepare(args: argparse.Namespace, work: Path) -> tuple[float, str]:
    """`hm demo --prepare-only`: wall seconds and what it says it did."""
    start = time.perf_counter()
    run = subprocess.run([HM, "demo", "--prepare-only", "--data", str(args.data), "--work", str(work),
                          "--scale", args.scale], check=True, capture_output=True, text=True)
    return time.perf_counter() - start, run.stdout.strip().splitlines()[-1]


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds of a process so far, all its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ready(args: argparse.Namespace, work: Path, browser: Chromium) -> dict[str, float]:
    """Seconds from `hm demo` starting to: health endpoint up, first page done (and the server's CPU
    seconds then), customer features shown."""
    port = free_port()
    browser.call("Page.navigate", url="about:blank")
    with open(work / "server.log", "a") as log:
        start = time.perf_counter()
        server = subprocess.Popen([HM, "demo", "--data", str(args.data), "--work", str(work), "--scale", args.scale,
                                   "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for(lambda: healthy(port), 60, "the server's health endpoint", every=0.02)
            times = {"`hm demo` start to health endpoint up": time.perf_counter() - start}
            browser.call("Page.navigate", url=f"http://127.0.0.1:{port}/")
            wait_for(lambda: browser.evaluate(FIRST_PAGE_DONE), 60, "the first page", every=0.05)
            times["`hm demo` start to first page done"] = time.perf_counter() - start
            times["server CPU seconds until then"] = cpu_seconds(server.pid)
            wait_for(lambda: browser.evaluate(FEATURES_SHOWN), 60, "the customer's features", every=0.05)
            times["`hm demo` start to customer features shown"] = time.perf_counter() - start
        finally:
            server.terminate()
            server.wait(timeout=10)
    return times


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=ROOT / "data" / "raw", help="raw folder (with images)")
    p.add_argument("--source", type=Path, default=ROOT / "data", help="work folder with the chain's outputs")
    p.add_argument("--scale", default="default")
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args()
    chromium = shutil.which("chromium") or sys.exit("needs Debian's chromium: apt-get install -y chromium")
    work = Path(tempfile.mkdtemp(prefix="hm_bench_demo_"))
    try:
        cutoff = copy_inputs(args.source, work)
        print(f"{platform.node()}: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start; "
              f"raw {args.data}, scale {args.scale}, cut-off {cutoff}\n")
        cold, cold_said = prepare(args, work)
        warm, warm_said = prepare(args, work)
        print(f"cold: {cold_said}\nwarm: {warm_said}\n")
        browser = Chromium(chromium, work / "chromium-profile")
        try:
            browser.call("Network.enable")
            browser.call("Network.setCacheDisabled", cacheDisabled=True)
            browser.call("Emulation.setDeviceMetricsOverride", width=1280, height=2000, deviceScaleFactor=1,
                         mobile=False)
            runs = [ready(args, work, browser) for _ in range(args.runs)]
        finally:
            browser.close()
    finally:
        shutil.rmtree(work)
    print("| step | seconds |\n|---|---:|")
    print(f"| `hm demo --prepare-only`, cold (feature store and artefacts built) | {cold:.1f} |")
    print(f"| `hm demo --prepare-only`, warm (both reused) | {warm:.1f} |")
    for step in runs[0]:
        values = [r[step] for r in runs]
        print(f"| {step}: median (max) of {len(runs)} | "
              f"{statistics.median(values):.1f} ({max(values):.1f}) |")
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
