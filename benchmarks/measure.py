"""Shared by the benchmark scripts: peak memory of the process, and the synthetic worlds they measure on."""
from __future__ import annotations

import resource
import tempfile
from pathlib import Path

from hm_lib import schema


def peak_rss_mib() -> float:
    """This process's peak resident memory: VmHWM (reset by exec, unlike ru_maxrss) where Linux has it."""
    status = Path("/proc/self/status")
    if status.is_file():
        line = next(x for x in status.read_text().splitlines() if x.startswith("VmHWM:"))
        return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def synthetic_raw(scale: str, seed: int = 42) -> Path:
    """The raw folder of a synthetic world without images, written once to /tmp/hm_bench_raw_<scale>/raw."""
    from hm_lib.synthetic import generate

    raw = Path(tempfile.gettempdir()) / f"hm_bench_raw_{scale}" / "raw"
    generate(raw, scale=scale, seed=seed, images=False)
    return raw


def world_with_photos(world: Path, scale: str, seed: int = 42, progress: bool = True) -> bool:
    """The synthetic world with its photos in ``world/raw``, generated unless both are there; whether it was."""
    from hm_lib.synthetic import generate

    photos = world / "raw" / schema.IMAGES_DIR
    if (world / "raw" / "articles.csv").is_file() and photos.is_dir() and any(photos.iterdir()):
        return False
    generate(world / "raw", scale=scale, seed=seed, images=True, progress=progress)
    return True
