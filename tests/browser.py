"""Headless Chromium driven through the DevTools protocol: for the demo's browser test and benchmark."""
from __future__ import annotations

import asyncio
import itertools
import json
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
T = TypeVar("T")
# The demo's first page is done: the script has finished (its status widget, "Running... Stop", is
# gone), no element is still a loading skeleton, the recommendations' reasons are shown and the
# images (at least the history's and the recommendations') are loaded.
FIRST_PAGE_DONE = ("document.body.innerText.includes('why: ') && "
                   "Array.from(document.querySelectorAll('[data-testid=stStatusWidget]'))"
                   ".every(e => !e.innerText.trim()) && "
                   "!document.querySelector('[data-testid=stSkeleton]') && document.images.length >= 24 && "
                   "Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
# The customer's features, read from the Feast online store once it has opened, are shown.
FEATURES_SHOWN = "document.body.innerText.includes('Customer features')"


def wait_for(probe: Callable[[], T], timeout: float, what: str, every: float = 0.1) -> T:
    """The first truthy result of ``probe``, polled every ``every`` seconds until ``timeout`` seconds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if found := probe():
                return found
        except OSError:
            pass
        time.sleep(every)
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
