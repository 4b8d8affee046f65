"""Same bytes in every process, and a chain that survives SIGKILL: `hm` run as fresh processes.

Each process gets its own PYTHONHASHSEED, so an order that depends on Python's string hash (a set
of strings iterated while drawing random numbers) shows up as different bytes.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ChainRun, WorldDirs, hm_run_args
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


def stamps(world: Path) -> dict[str, int]:
    folder = world / "outputs" / "notebooks"
    return {p.name.split(".")[1]: p.stat().st_mtime_ns for p in folder.glob(".*.submit.stamp.json")}


def kill_during_ensemble_members(world: WorldDirs, hash_seed: int, timeout: float = 400) -> None:
    """Start `hm run`, SIGKILL its whole process group (kernel included) once an ensemble member is saved."""
    log_path = world.root / "killed.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(hm_run_args(world), env=env(hash_seed), stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        end = time.monotonic() + timeout
        try:
            while not list(world.root.glob("relevance/cutoff=*/members-*/member-1.npz")):
                assert proc.poll() is None, log_path.read_text()[-3000:]
                assert time.monotonic() < end, "no ensemble member was saved in time"
                time.sleep(0.2)
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)


def test_hm_run_says_its_scale_steps_and_where_the_submission_is(tiny_submission: ChainRun) -> None:
    raw, lines = tiny_submission.world.raw, tiny_submission.stderr.splitlines()
    assert lines[0] == f"scale: tiny, chosen from the data (500 customers in {raw / 'customers.csv'}); --scale overrides"
    steps = [line for line in lines if re.match(r"\[\d/7\] ", line)]
    assert [step.split()[1] for step in steps[1::2]] == list(STAGES)  # "[i/7] stage ..." then its time
    assert steps[-1].startswith("[7/7] 07_submission ... ") and steps[-1].endswith(" s")
    assert "absl::InitializeLog" not in tiny_submission.stderr and "cpu_feature_guard" not in tiny_submission.stderr
    assert "running over TCP without encryption" not in tiny_submission.stderr
    # the long loops' progress reaches the terminal from inside the notebooks
    for progress in ("image model: pretraining the small backbone", "image features (head)",
                     "image model: frozen_calibrated, frozen phase, epoch 2/2", "ensemble members",
                     "labelled weeks", "ranking shards", "pretraining, epoch 1/1", "ensemble member (",
                     "frozen_calibrated, frozen phase, epoch 1/2: 100%"):  # batch bars inside each epoch
        assert progress in tiny_submission.stderr, progress
    summary = tiny_submission.stdout.splitlines()[-3:]
    outputs = tiny_submission.world.root / "outputs"
    assert summary[0] == f"submission: {outputs / 'submission.csv'} (500 customers; submission.csv.gz beside it)"
    assert summary[1].startswith("upload: kaggle competitions submit -c h-and-m-personalized-fashion-recommendations")
    assert summary[2] == f"report: {outputs / 'index.html'} (every notebook as a page)"


def test_a_killed_chain_resumes_to_the_bytes_of_an_uninterrupted_run(tiny_submission: ChainRun) -> None:
    """The finished run's folder, with 05-07 forgotten (stamps, the ensemble's folder), run again and
    SIGKILLed inside 05 (hash seed 4), then resumed (seed 5): its bytes must be the uninterrupted run's (seed 3).
    The folder ends as it began, so the other tests of the finished run still read it."""
    world = tiny_submission.world
    before = stamps(world.root)
    assert sorted(before) == list(STAGES)
    for stage in STAGES[4:]:
        (world.root / "outputs" / "notebooks" / f".{stage}.submit.stamp.json").unlink()
    shutil.rmtree(world.root / "relevance")
    kill_during_ensemble_members(world, hash_seed=4)
    assert sorted(stamps(world.root)) == list(STAGES[:4])  # killed inside 05_ensemble
    assert list(world.root.glob("relevance/cutoff=*/members-*/member-1.npz"))  # a member it had finished
    resumed = subprocess.run(hm_run_args(world), env=env(5), capture_output=True, text=True, timeout=900)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    for stage in STAGES[:4]:  # finished stages are not redone
        assert f"{stage} is up to date; skipped" in resumed.stderr
        assert stamps(world.root)[stage] == before[stage]
    assert "ensemble: member 0 read back from" in resumed.stderr  # inside 05, the finished members are kept
    assert sorted(stamps(world.root)) == list(STAGES)
    assert len(tiny_submission.submission.splitlines()) == 1 + 500
    assert (world.root / "outputs" / schema.SUBMISSION_FILE).read_bytes() == tiny_submission.submission
