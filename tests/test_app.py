"""The Streamlit demo: its artefacts, the app through AppTest, and the served page in headless Chromium."""
from __future__ import annotations

import asyncio
import base64
import dataclasses
import datetime as dt
import itertools
import json
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import lightgbm as lgb
import polars as pl
import pytest
from PIL import Image, ImageStat
from streamlit.testing.v1 import AppTest

from hm_lib import feature_store as fs
from hm_lib.cli import main
from hm_lib.config import Config
from hm_lib.data import load
from hm_lib.io import read_json, write_json

APP = str(fs.APP_SCRIPT)
TITLE = "H&M fashion recommendations"
SCREENSHOT = fs.ROOT / "outputs" / "demo_screenshot.png"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
T = TypeVar("T")


@pytest.fixture(scope="module")
def demo(tiny_world, tmp_path_factory: pytest.TempPathFactory) -> tuple[Config, Path]:
    """`hm demo --prepare-only` on the tiny world (it trains the ranker: no predictions yet)."""
    work = tmp_path_factory.mktemp("demo")
    cfg = tiny_world.config(work_dir=work)
    assert main(["demo", "--prepare-only", "--data", str(cfg.data_dir), "--work", str(work), "--scale", "tiny"]) == 0
    return cfg, fs.demo_dir(work)


def app(folder: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv(fs.DEMO_ENV, str(folder))
    return AppTest.from_file(APP, default_timeout=60).run()


def captions(at: AppTest, start: str) -> list[str]:
    return [c.value for c in at.caption if c.value.startswith(start)]


def test_artefacts_hold_k_recommendations_per_customer(demo) -> None:
    cfg, folder = demo
    meta = read_json(folder / "meta.json")
    recs = pl.read_parquet(folder / "recommendations.parquet")
    customers = pl.read_parquet(folder / "customers.parquet")
    assert meta["k"] == 12 and meta["cutoff"] == "2020-09-23" and "repurchase" in meta["sources"]
    per = recs.group_by("customer").agg(pl.col("rank").sort(), pl.col("article_id").n_unique().alias("n"))
    assert per.height == customers.height and (per["n"] == 12).all()
    assert per["rank"].to_list() == [list(range(1, 13))] * per.height
    assert set(customers["activity"]) <= set(fs.ACTIVITY) and set(customers["age_band"]) <= {*fs.AGE_BANDS, "unknown"}


def test_serving_from_the_online_store_reproduces_the_batch_scores(demo) -> None:
    cfg, folder = demo
    store, booster = fs.open_store(cfg.work_dir), lgb.Booster(model_file=str(folder / "ranker.txt"))
    recs = pl.read_parquet(folder / "recommendations.parquet").filter(~pl.col("filled") & (pl.col("customer") < 50))
    served = fs.serve(store, booster, recs.drop("rank", "score", "filled"))
    assert (served["score"] - recs["score"]).abs().max() < 1e-5
    assert all(len(why) == 3 and why[0]["feature"] in booster.feature_name() for why in served["why"])


def test_app_shows_a_customer_history_and_12_explained_recommendations(demo, monkeypatch) -> None:
    _, folder = demo
    at = app(folder, monkeypatch)
    assert not at.exception and at.title[0].value == TITLE
    customer = pl.read_parquet(folder / "customers.parquet").filter(pl.col("purchases") > 3)["customer"][0]
    at.text_input(key="query").input(str(customer)).run()
    assert not at.exception and at.subheader[0].value == f"Customer {customer}"
    assert len(captions(at, "**#")) == 12 and len(captions(at, "why: ")) == 12
    assert any(m.value.startswith("**Customer features** (Feast online store") for m in at.markdown)
    assert at.dataframe[0].value.shape[0] == 1 and "c_age" in at.dataframe[0].value.columns
    assert not at.warning


def test_app_unknown_customer_gets_the_popularity_fallback(demo, monkeypatch) -> None:
    _, folder = demo
    at = app(folder, monkeypatch)
    at.text_input(key="query").input("not-a-customer").run()
    assert not at.exception
    assert "unknown to the store" in at.info[0].value and "popularity fallback" in at.info[0].value
    assert len(captions(at, "**#")) == 12 and len(at.image) == 12


def test_app_random_customer_comes_from_the_chosen_segment(demo, monkeypatch) -> None:
    _, folder = demo
    at = app(folder, monkeypatch)
    at.selectbox(key="activity").select("new").run()
    at.button[0].click().run()
    new = pl.read_parquet(folder / "customers.parquet").filter(pl.col("activity") == "new")
    assert not at.exception and at.session_state.query in new["customer_id"].to_list()
    assert len(captions(at, "**#")) == 12


def test_app_without_images_nor_feature_store_still_recommends(demo, monkeypatch, tmp_path: Path) -> None:
    _, folder = demo
    copy = shutil.copytree(folder, tmp_path / "demo")
    meta = {**read_json(folder / "meta.json"), "data_dir": str(tmp_path), "work_dir": str(tmp_path)}
    write_json(meta, copy / "meta.json")
    at = app(copy, monkeypatch)
    assert not at.exception and len(captions(at, "**#")) == 12
    assert at.image and all("svg" in image.value[0] for image in at.image)  # placeholders
    assert "Feature store unavailable" in at.warning[0].value and "hm features apply" in at.warning[0].value


def test_app_customer_missing_from_the_online_store(demo, monkeypatch, tmp_path: Path) -> None:
    """A store that was applied but not materialised holds no customer."""
    cfg, folder = demo
    fs.apply(dataclasses.replace(cfg, work_dir=tmp_path), load(cfg.data_dir, cfg.processed_dir), dt.date(2020, 9, 23))
    copy = shutil.copytree(folder, tmp_path / "demo")
    write_json({**read_json(folder / "meta.json"), "work_dir": str(tmp_path)}, copy / "meta.json")
    at = app(copy, monkeypatch)
    assert not at.exception and len(captions(at, "**#")) == 12
    assert "missing from the Feast online store" in at.info[0].value


def test_app_without_artefacts_says_which_command_to_run(monkeypatch, tmp_path: Path) -> None:
    at = app(tmp_path, monkeypatch)
    assert not at.exception and "run `hm demo`" in at.error[0].value


# --- The served page in a real browser ------------------------------------------------------------

def wait_for(probe: Callable[[], T], timeout: float, what: str) -> T:
    """The first truthy result of ``probe``, polled until ``timeout`` seconds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if found := probe():
                return found
        except OSError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"gave up after {timeout:.0f} s waiting for {what}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(port: int) -> bool:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1) as response:
        return response.read() == b"ok"


class Chromium:
    """Headless Chromium driven through the DevTools protocol (with tornado's websocket client)."""

    def __init__(self, binary: str, profile: Path) -> None:
        from tornado.websocket import websocket_connect

        port = free_port()
        self.log = profile.with_name("chromium.log")
        with open(self.log, "w") as log:
            self.process = subprocess.Popen([binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                                             "--window-size=1280,2000", f"--remote-debugging-port={port}"],
                                            stdout=log, stderr=subprocess.STDOUT)
        self.loop = asyncio.new_event_loop()
        self.ids = itertools.count(1)

        def new_page() -> str:
            request = urllib.request.Request(f"http://127.0.0.1:{port}/json/new?about:blank", method="PUT")
            with urllib.request.urlopen(request, timeout=2) as response:
                return json.loads(response.read())["webSocketDebuggerUrl"]

        async def connect(url: str):
            return await websocket_connect(url, max_message_size=64 << 20)

        self.socket = self.loop.run_until_complete(connect(wait_for(new_page, 30, "Chromium's DevTools endpoint")))

    def call(self, method: str, **params) -> dict:
        return self.loop.run_until_complete(self._call(method, params))

    async def _call(self, method: str, params: dict) -> dict:
        number = next(self.ids)
        await self.socket.write_message(json.dumps({"id": number, "method": method, "params": params}))
        while True:  # events and other answers are skipped
            message = await self.socket.read_message()
            if message is None:
                raise RuntimeError("Chromium closed the DevTools connection; its log ends: "
                                   f"{self.log.read_text()[-1500:]}")
            answer = json.loads(message)
            if answer.get("id") == number:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer["result"]

    def evaluate(self, expression: str):
        return self.call("Runtime.evaluate", expression=expression, returnByValue=True)["result"].get("value")

    def close(self) -> None:
        self.socket.close()
        self.loop.close()
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def chromium() -> str:
    """Debian's chromium, installed with apt-get when missing (as root), else the test is skipped."""
    if found := shutil.which("chromium"):
        return found
    if os.geteuid() != 0:
        pytest.skip("chromium is not installed and installing it needs root: apt-get install -y chromium")
    try:
        subprocess.run("apt-get update && apt-get install -y chromium", shell=True, check=True, capture_output=True,
                       timeout=900, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    except (OSError, subprocess.SubprocessError) as err:
        pytest.skip(f"chromium is not installed and apt-get could not install it: {err}")
    return shutil.which("chromium") or pytest.skip("apt-get install chromium left no chromium command")


# Done: the script has finished (its status widget, "Running... Stop", is gone), no element is still a
# loading skeleton, and the images (at least the history's and the recommendations') are loaded.
PAGE_DONE = ("document.body.innerText.includes('why: ') && "
             "Array.from(document.querySelectorAll('[data-testid=stStatusWidget]'))"
             ".every(e => !e.innerText.trim()) && "
             "!document.querySelector('[data-testid=stSkeleton]') && document.images.length >= 24 && "
             "Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")


def test_browser_shows_the_served_app(demo, chromium, tmp_path: Path) -> None:
    """`streamlit run` on a free port, the page loaded once to warm it up, then reloaded and captured."""
    _, folder = demo
    port = free_port()
    with open(tmp_path / "server.log", "w") as log:
        server = subprocess.Popen(fs.demo_command(port), env={**os.environ, fs.DEMO_ENV: str(folder)}, cwd=fs.ROOT,
                                  stdout=log, stderr=subprocess.STDOUT)
        browser = Chromium(chromium, tmp_path / "profile")
        try:
            wait_for(lambda: healthy(port), 30, "the server's health endpoint")
            browser.call("Emulation.setDeviceMetricsOverride", width=1280, height=2000, deviceScaleFactor=1,
                         mobile=False)
            for _ in range(2):  # a cold first load, then the one captured
                browser.call("Page.navigate", url=f"http://127.0.0.1:{port}/")
                wait_for(lambda: browser.evaluate(PAGE_DONE), 60, "the rendered page")
            text = browser.evaluate("document.body.innerText")
            png = base64.b64decode(browser.call("Page.captureScreenshot", format="png")["data"])
        finally:
            browser.close()
            server.terminate()
            server.wait(timeout=10)
    assert TITLE in text and "12 recommendations for the week from 2020-09-23" in text
    assert len(re.findall(r"^#\d+ .+ · score -?\d", text, flags=re.MULTILINE)) == 12 and "Customer features" in text
    (tmp_path / "page.png").write_bytes(png)
    with Image.open(tmp_path / "page.png") as image:
        assert image.size == (1280, 2000) and ImageStat.Stat(image.convert("L")).stddev[0] > 5  # not blank
    SCREENSHOT.parent.mkdir(exist_ok=True)
    shutil.copyfile(tmp_path / "page.png", SCREENSHOT)
