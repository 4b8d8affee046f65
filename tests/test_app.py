"""The Streamlit demo: the app through AppTest, and the served page in headless Chromium."""
from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
from browser import FEATURES_SHOWN, FIRST_PAGE_DONE, Chromium, free_port, healthy, wait_for
from PIL import Image, ImageStat
from streamlit.testing.v1 import AppTest

from hm_lib import demo as hm_demo
from hm_lib import feature_store as fs
from hm_lib.data import load
from hm_lib.io import read_json, write_json
from hm_lib.reasons import NO_REASON, sentences

APP = str(hm_demo.APP_SCRIPT)
TITLE = "H&M fashion recommendations"
OPENING = "Opening the Feast online store"  # the note shown until the store is open


def app(folder: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv(hm_demo.DEMO_ENV, str(folder))
    return AppTest.from_file(APP, default_timeout=60).run()


def settled(at: AppTest, timeout: float = 60) -> AppTest:
    """``at`` run again until the feature store has opened (the page polls for it in a browser)."""
    end = time.monotonic() + timeout
    while any(c.value.startswith(OPENING) for c in at.caption):
        assert time.monotonic() < end, "the feature store did not open"
        time.sleep(0.2)
        at.run()
    return at


def captions(at: AppTest, start: str) -> list[str]:
    return [c.value for c in at.caption if c.value.startswith(start)]


def test_first_page_needs_neither_feast_nor_lightgbm(tiny_demo, tmp_path: Path) -> None:
    """In a fresh interpreter where Feast, LightGBM and TensorFlow cannot be imported, the first page
    still shows the 12 recommendations with their reasons; only the features panel says it failed."""
    _, folder = tiny_demo
    script = tmp_path / "first_page.py"
    script.write_text(f"""
import json, sys, time
class Blocked:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in ("feast", "lightgbm", "tensorflow"):
            raise ImportError(f"blocked: {{name}}")
sys.meta_path.insert(0, Blocked())
from streamlit.testing.v1 import AppTest
at = AppTest.from_file({APP!r}, default_timeout=60).run()
first = {{"exception": [e.value for e in at.exception], "captions": [c.value for c in at.caption]}}
while any(c.value.startswith({OPENING!r}) for c in at.caption):
    time.sleep(0.2)
    at.run()
print(json.dumps({{**first, "warnings": [w.value for w in at.warning]}}))
""")
    run = subprocess.run([sys.executable, str(script)], env={**os.environ, hm_demo.DEMO_ENV: str(folder)},
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    page = json.loads(run.stdout.strip().splitlines()[-1])
    assert not page["exception"]
    assert sum(c.startswith("**#") for c in page["captions"]) == 12
    assert sum(c.startswith("why: ") for c in page["captions"]) == 12
    assert any(c.startswith(OPENING) for c in page["captions"])  # drawn before the store was open
    assert "Feature store unavailable (ImportError: blocked: feast" in page["warnings"][0]


def test_app_shows_a_customer_history_and_12_explained_recommendations(tiny_demo, monkeypatch) -> None:
    _, folder = tiny_demo
    at = app(folder, monkeypatch)
    assert not at.exception and at.title[0].value == TITLE
    customer = pl.read_parquet(folder / "customers.parquet").filter(pl.col("purchases") > 3)["customer"][0]
    settled(at.text_input(key="query").input(str(customer)).run())
    assert not at.exception and at.subheader[0].value == f"Customer {customer}"
    assert len(captions(at, "**#")) == 12 and len(captions(at, "why: ")) == 12
    # reasons in words, with their numbers where they have one; no raw feature names, nothing at +0.00
    words = [w.removeprefix("why: ") for w in captions(at, "why: ")]
    assert not any(re.search(r"\b[a-z]+_[a-z_]+\b", w) or "+0.00" in w for w in words), words
    recs = pl.read_parquet(folder / "recommendations.parquet").filter(pl.col("customer") == customer).sort("rank")
    assert words == ["; ".join(sentences(why)) or NO_REASON for why in recs["why"].to_list()]
    assert any(re.search(r"\d", w) for w in words)
    # the raw view stays one click away, behind an expander
    assert any(e.label.startswith("The ranker's features behind each recommendation") for e in at.expander)
    raw = at.dataframe[1].value  # after the customer's features, whose panel heads the page
    assert {"rank", "feature", "contribution", "value"} <= set(raw.columns) and raw.shape[0] == 12 * hm_demo.REASONS
    assert any(m.value.startswith("**Customer features** (Feast online store") for m in at.markdown)
    assert at.dataframe[0].value.shape[0] == 1 and "c_age" in at.dataframe[0].value.columns
    assert not at.warning


def test_app_unknown_customer_gets_the_popularity_fallback(tiny_demo, monkeypatch) -> None:
    _, folder = tiny_demo
    at = app(folder, monkeypatch)
    at.text_input(key="query").input("not-a-customer").run()
    assert not at.exception
    assert "unknown to the store" in at.info[0].value and "popularity fallback" in at.info[0].value
    assert len(captions(at, "**#")) == 12 and len(at.image) == 12


def test_app_random_customer_comes_from_the_chosen_segment(tiny_demo, monkeypatch) -> None:
    _, folder = tiny_demo
    at = app(folder, monkeypatch)
    at.selectbox(key="activity").select("new").run()
    at.button[0].click().run()
    new = pl.read_parquet(folder / "customers.parquet").filter(pl.col("activity") == "new")
    assert not at.exception and at.session_state.query in new["customer_id"].to_list()
    assert len(captions(at, "**#")) == 12


def test_app_without_images_nor_feature_store_still_recommends(tiny_demo, monkeypatch, tmp_path: Path) -> None:
    _, folder = tiny_demo
    copy = shutil.copytree(folder, tmp_path / "demo")
    meta = {**read_json(folder / "meta.json"), "data_dir": str(tmp_path), "work_dir": str(tmp_path)}
    write_json(meta, copy / "meta.json")
    at = settled(app(copy, monkeypatch))
    assert not at.exception and len(captions(at, "**#")) == 12 and len(captions(at, "why: ")) == 12
    assert at.image and all("svg" in image.value[0] for image in at.image)  # placeholders
    assert "Feature store unavailable" in at.warning[0].value and "hm features apply" in at.warning[0].value


def test_app_customer_missing_from_the_online_store(tiny_demo, monkeypatch, tmp_path: Path) -> None:
    """A store that was applied but not materialised holds no customer."""
    cfg, folder = tiny_demo
    fs.apply(dataclasses.replace(cfg, work_dir=tmp_path), load(cfg.data_dir, cfg.processed_dir), dt.date(2020, 9, 23))
    copy = shutil.copytree(folder, tmp_path / "demo")
    write_json({**read_json(folder / "meta.json"), "work_dir": str(tmp_path)}, copy / "meta.json")
    at = settled(app(copy, monkeypatch))
    assert not at.exception and len(captions(at, "**#")) == 12
    assert "missing from the Feast online store" in at.info[0].value


def test_app_without_artefacts_says_which_command_to_run(monkeypatch, tmp_path: Path) -> None:
    at = app(tmp_path, monkeypatch)
    assert not at.exception and "run `hm demo`" in at.error[0].value


# --- The served page in a real browser ------------------------------------------------------------

@pytest.fixture(scope="module")
def chromium() -> str:
    """Debian's chromium (`make browser` installs it; `make test` calls that), else the test is skipped."""
    return shutil.which("chromium") or pytest.skip("chromium is not installed: run `make browser` (needs root)")


def test_browser_shows_the_served_app(tiny_demo, chromium, tmp_path: Path) -> None:
    """`hm demo` on a free port (its artefacts up to date), the page loaded once to warm it up, then
    reloaded and captured."""
    cfg, _ = tiny_demo
    port = free_port()
    command = [sys.executable, "-m", "hm_lib.cli", "demo", "--data", str(cfg.data_dir), "--work", str(cfg.work_dir),
               "--scale", "tiny", "--port", str(port)]
    with open(tmp_path / "server.log", "w") as log:
        server = subprocess.Popen(command, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
        browser = Chromium(chromium, tmp_path / "profile")
        try:
            wait_for(lambda: healthy(port), 30, "the server's health endpoint")
            browser.call("Emulation.setDeviceMetricsOverride", width=1280, height=2000, deviceScaleFactor=1,
                         mobile=False)
            for _ in range(2):  # a cold first load, then the one captured
                browser.call("Page.navigate", url=f"http://127.0.0.1:{port}/")
                wait_for(lambda: browser.evaluate(f"{FIRST_PAGE_DONE} && {FEATURES_SHOWN}"), 60, "the rendered page")
            text = browser.evaluate("document.body.innerText")
            png = base64.b64decode(browser.call("Page.captureScreenshot", format="png")["data"])
        finally:
            browser.close()
            server.terminate()
            server.wait(timeout=10)
    assert "(reused, " in (tmp_path / "server.log").read_text()  # nothing prepared again
    assert TITLE in text and "12 recommendations for the week from 2020-09-23" in text
    assert len(re.findall(r"^#\d+ .+ · score -?\d", text, flags=re.MULTILINE)) == 12 and "Customer features" in text
    (tmp_path / "page.png").write_bytes(png)
    with Image.open(tmp_path / "page.png") as image:
        assert image.size == (1280, 2000) and ImageStat.Stat(image.convert("L")).stddev[0] > 5  # not blank


def test_browser_opens_the_run_report(tiny_submission, chromium, tmp_path: Path) -> None:
    """`outputs/index.html` of a whole `hm run`, and the first notebook's page it links to."""
    index = tiny_submission.world.root / "outputs" / "index.html"
    browser = Chromium(chromium, tmp_path / "profile")
    try:
        browser.call("Page.navigate", url=index.as_uri())
        wait_for(lambda: browser.evaluate("document.readyState === 'complete'"), 30, "the report's index")
        text = browser.evaluate("document.body.innerText")
        links = browser.evaluate("Array.from(document.links).map(a => a.href)")
        browser.call("Page.navigate", url=links[0])
        wait_for(lambda: browser.evaluate("document.readyState === 'complete' && document.title !== ''"), 30,
                 "the first notebook's page")
        page = browser.evaluate("document.body.innerText")
    finally:
        browser.close()
    assert "hm run: tiny scale" in text and "01_eda" in text and "07_submission" in text and "submission: " in text
    assert len(links) == 14 and links[0].endswith("/notebooks/01_eda.html")  # a page and a notebook per stage
    assert "01 · Exploratory data analysis" in page  # the notebook's own heading, rendered
