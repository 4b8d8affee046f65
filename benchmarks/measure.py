"""Shared by the benchmark scripts: the machine, peak memory of the process, and the synthetic worlds they
measure on."""
from __future__ import annotations

import os
import platform
import resource
import tempfile
from pathlib import Path

from hm_lib import schema


def machine() -> dict[str, object]:
    """What the figures depend on: CPU model, cores, the vector units TensorFlow's kernels use, memory.

    Machines of the same size differ several-fold in ResNet50's speed (docs/benchmarks.md, "Compiled
    inference"): a figure means little without this.
    """
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").is_file() else ""
    model = next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")),
                 platform.processor() or platform.machine())
    flags = set(next((line.split(":", 1)[1].split() for line in info.splitlines() if line.startswith("flags")), []))
    pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 0
    return {"cpu": model, "cores": os.cpu_count(), "avx2": "avx2" in flags, "avx512": "avx512f" in flags,
            "memory_gib": round(pages / (1 << 30), 1)}


def machine_line() -> str:
    """:func:`machine` as one line for a benchmark's header."""
    m = machine()
    units = "AVX-512" if m["avx512"] else "AVX2, no AVX-512" if m["avx2"] else "no AVX2"
    return f"machine: {m['cpu']}, {m['cores']} cores ({units}), {m['memory_gib']} GiB"


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
