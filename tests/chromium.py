"""A headless Chromium page driven over the DevTools protocol, with the network blocked.

No dependency: Chromium's ``--remote-debugging-pipe`` speaks the DevTools protocol as JSON
messages separated by NUL bytes on file descriptors 3 (to the browser) and 4 (from it).
:func:`open_page` loads a file and returns what happened: every request the page made, console
messages and uncaught exceptions, and a way to evaluate JavaScript or take a screenshot.

The network is blocked three ways, so a page that tries to load anything from outside fails
(and is recorded) instead of succeeding quietly: every host name resolves to nothing
(``--host-resolver-rules``), every request goes to a proxy that does not exist, and the
request log records the URL before either refuses it.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--no-default-browser-check",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
    "--disable-default-apps", "--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication",
    "--metrics-recording-only", "--mute-audio", "--hide-scrollbars",
    '--host-resolver-rules=MAP * ~NOTFOUND', "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
)


def find_chromium() -> str | None:
    """The path of a Chromium (or Chrome) executable, or None."""
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


@dataclass
class PageLoad:
    """What happened when a page was opened."""

    url: str
    requests: list[str] = field(default_factory=list)
    console: list[tuple[str, str]] = field(default_factory=list)  # (level, text)
    exceptions: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (url, error)

    @property
    def external_requests(self) -> list[str]:
        """Requests for anything but the page's own files and inline data."""
        return [u for u in self.requests if not u.startswith(("file:", "data:", "about:", "blob:"))]

    @property
    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions and failed loads."""
        return ([text for level, text in self.console if level in ("error", "assert")] + self.exceptions
                + [f"failed to load {u}: {e}" for u, e in self.failed])


class Browser:
    """One headless Chromium with a fresh profile, spoken to over the DevTools pipe."""

    def __init__(self, executable: str, *, width: int = 1400, height: int = 1800):
        self.profile = tempfile.mkdtemp(prefix="chromium-profile-")
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def wire():  # the browser reads commands on fd 3 and writes answers on fd 4
            read_end, write_end = os.dup(to_browser_r), os.dup(from_browser_w)  # out of the way of 3 and 4
            os.dup2(read_end, 3, inheritable=True)
            os.dup2(write_end, 4, inheritable=True)

        self.proc = subprocess.Popen(
            [executable, *FLAGS, "--remote-debugging-pipe", f"--user-data-dir={self.profile}",
             f"--window-size={width},{height}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=wire, close_fds=False,  # fds 3 and 4 stay open; the pipes' own fds close on exec
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._next = 0
        self._buffer = b""
        self.events: list[dict] = []

    def send(self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 30.0) -> dict:
        """Send a command and wait for its answer; events that arrive meanwhile are kept."""
        self._next += 1
        message = {"id": self._next, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            for reply in self._read(deadline):
                if reply.get("id") == self._next:
                    if "error" in reply:
                        raise RuntimeError(f"{method}: {reply['error']}")
                    return reply.get("result", {})
                self.events.append(reply)

    def _read(self, deadline: float) -> list[dict]:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("Chromium did not answer in time")
        ready, _, _ = select.select([self._from_browser], [], [], remaining)
        if not ready:
            raise TimeoutError("Chromium did not answer in time")
        chunk = os.read(self._from_browser, 1 << 20)
        if not chunk:
            raise RuntimeError("Chromium closed the DevTools pipe")
        self._buffer += chunk
        *messages, self._buffer = self._buffer.split(b"\0")
        return [json.loads(m) for m in messages if m]

    def wait_events(self, seconds: float) -> None:
        """Collect events for ``seconds``."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                self.events += self._read(deadline)
            except TimeoutError:
                break

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, TimeoutError, OSError):
            self.send("Browser.close", timeout=5)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._to_browser, self._from_browser):
            with contextlib.suppress(OSError):
                os.close(fd)
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def open_page(browser: Browser, path: str | Path, *, settle: float = 1.0, screenshot: str | Path | None = None,
              evaluate: tuple[str, ...] = (), chunk: int | None = None) -> tuple[PageLoad, list]:
    """Open ``path`` in a new tab, wait for it to load (and ``settle`` seconds more), and return
    what it requested and logged, with the values of the ``evaluate`` expressions.

    With ``screenshot``, a PNG of the whole page is written there; with ``chunk`` too, the page
    is cut into PNGs ``chunk`` pixels high (``<name>-01.png``...), for reading one screen at a time.
    """
    url = Path(path).resolve().as_uri()
    target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    for domain in ("Page", "Network", "Runtime", "Log"):
        browser.send(f"{domain}.enable", session=session)
    browser.events.clear()
    browser.send("Page.navigate", {"url": url}, session=session)
    deadline = time.monotonic() + 60
    while not any(e.get("method") == "Page.loadEventFired" and e.get("sessionId") == session for e in browser.events):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not finish loading")
        browser.wait_events(0.2)
    browser.wait_events(settle)
    load = PageLoad(url)
    urls = {}
    for event in browser.events:
        if event.get("sessionId") != session:
            continue
        method, params = event.get("method"), event.get("params", {})
        if method == "Network.requestWillBeSent":
            request_url = params["request"]["url"]
            request_url = request_url[:40] + "..." if request_url.startswith("data:") else request_url
            load.requests.append(request_url)
            urls[params.get("requestId")] = request_url
        elif method == "Network.loadingFailed":
            load.failed.append((urls.get(params.get("requestId"), "?"), params.get("errorText", "")))
        elif method == "Runtime.consoleAPICalled":
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            load.console.append((params.get("type", ""), text))
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            load.exceptions.append(details.get("exception", {}).get("description") or details.get("text", ""))
        elif method == "Log.entryAdded":
            entry = params.get("entry", {})
            load.console.append((entry.get("level", ""), f"{entry.get('text', '')} {entry.get('url', '')}".strip()))
    values = [browser.send("Runtime.evaluate", {"expression": e, "returnByValue": True}, session=session)
              .get("result", {}).get("value") for e in evaluate]
    if screenshot is not None:
        metrics = browser.send("Page.getLayoutMetrics", session=session)
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        step = chunk or size["height"]
        for i, top in enumerate(range(0, int(size["height"]), int(step)), start=1):
            clip = {"x": 0, "y": top, "width": size["width"], "height": min(step, size["height"] - top), "scale": 1}
            shot = browser.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip},
                                session=session, timeout=60)
            out = Path(screenshot) if chunk is None else Path(screenshot).with_name(f"{Path(screenshot).stem}-{i:02d}.png")
            out.write_bytes(base64.b64decode(shot["data"]))
    browser.send("Target.closeTarget", {"targetId": target})
    return load, values
