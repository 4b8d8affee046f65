"""Same bytes in every process, and a chain that survives SIGKILL: `hm` run as fresh processes.

Each process gets its own PYTHONHASHSEED, so an order that depends on Python's string hash (a set
of strings iterated while drawing random numbers) shows up as different bytes.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hm_lib import schema

pytestmark = pytest.mark.notebooks
CSVS = (schema.ARTICLES_FILE, schema.CUSTOMERS_FILE, schema.TRANSACTIONS_FILE)
STAGES = ("01_eda", "02_candidates", "03_negatives", "04_image_model", "05_ensemble", "06_ranking", "07_submission")


def hm_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "hm_lib.cli", *args]


def env(hash_seed: int) -> dict[str, str]:
    return {**os.environ, "PYTHONHASHSEED": str(hash_seed)}


def generate(out: Path, hash_seed: int) -> None:
    subprocess.run(hm_command("generate", "--scale", "tiny", "--seed", "11", "--out", str(out)), env=env(hash_seed),
                   check=True, capture_output=True, timeout=300)


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def worlds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The same tiny world generated twice, each by its own process with its own string hash seed."""
    root = tmp_path_factory.mktemp("reproducible")
    for i, seed in enumerate((1, 2)):
        generate(root / f"world{i}" / "raw", seed)
    return root / "world0", root / "world1"


def test_generation_gives_the_same_bytes_in_every_process(worlds: tuple[Path, Path]) -> None:
    a, b = (files(w / "raw") for w in worlds)
    assert [name for name in CSVS if a[name] != b[name]] == []
    photos = [name for name in a if name.startswith(f"{schema.IMAGES_DIR}/")]
    assert len(photos) > 250 and a.keys() == b.keys()
    assert [name for name in photos if a[name] != b[name]] == []
    assert files(worlds[0] / "synthetic_truth") == files(worlds[1] / "synthetic_truth")


def run_args(world: Path) -> list[str]:
    return ["run", "--data", str(world / "raw"), "--work", str(world), "--outputs", str(world / "outputs"),
            "--scale", "tiny", "--seed", "5"]


def stamps(world: Path) -> dict[str, int]:
    folder = world / "outputs" / "notebooks"
    return {p.name.split(".")[1]: p.stat().st_mtime_ns for p in folder.glob(".*.submit.stamp.json")}


def kill_during_ensemble_members(world: Path, hash_seed: int, timeout: float = 400) -> None:
    """Start `hm run`, SIGKILL its whole process group (kernel included) once an ensemble member is saved."""
    log = (world / "killed.log").open("w")
    proc = subprocess.Popen(hm_command(*run_args(world)), env=env(hash_seed), stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    end = time.monotonic() + timeout
    try:
        while not list(world.glob("relevance/cutoff=*/members-*/member-1.npz")):
            assert proc.poll() is None, (world / "killed.log").read_text()[-3000:]
            assert time.monotonic() < end, "no ensemble member was saved in time"
            time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        log.close()


def test_a_killed_chain_resumes_to_the_bytes_of_an_uninterrupted_run(worlds: tuple[Path, Path]) -> None:
    whole, killed = worlds
    done = subprocess.run(hm_command(*run_args(whole)), env=env(3), capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]

    kill_during_ensemble_members(killed, hash_seed=4)
    before = stamps(killed)
    assert sorted(before) == list(STAGES[:4])  # killed inside 05_ensemble
    resumed = subprocess.run(hm_command(*run_args(killed)), env=env(5), capture_output=True, text=True, timeout=900)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    for stage in STAGES[:4]:  # finished stages are not redone
        assert f"{stage} is up to date; skipped" in resumed.stderr
        assert stamps(killed)[stage] == before[stage]
    assert sorted(stamps(killed)) == list(STAGES)
    submission = (whole / "outputs" / schema.SUBMISSION_FILE).read_bytes()
    assert len(submission.splitlines()) == 1 + 500
    assert (killed / "outputs" / schema.SUBMISSION_FILE).read_bytes() == submission
