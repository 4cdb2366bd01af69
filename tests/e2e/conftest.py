"""A real server (uvicorn, embedded relay, fake wallet) and Debian's chromium, for e2e tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}


def _wait_healthy(base_url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log.read_text()}")
        try:
            if httpx.get(f"{base_url}/api/v1/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server did not become healthy:\n{log.read_text()}")


def _bound_socket(port: int = 0) -> socket.socket:
    """A TCP socket bound to 127.0.0.1 that a child process can inherit."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.set_inheritable(True)
    return sock


class ServerProcess:
    """uvicorn in a subprocess on 127.0.0.1, with an embedded relay and the fake wallet.

    The port is bound here and handed to uvicorn as a file descriptor, so the embedded
    relay (which picks its own free port at start-up) can never take it first.
    """

    def __init__(self, data_dir: Path) -> None:
        self.sock: socket.socket | None = _bound_socket()
        self.port = int(self.sock.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data_dir.parent / "server.log"
        self.env = {
            **os.environ,
            "NOSTRBAZAAR_DATA_DIR": str(data_dir),
            "NOSTRBAZAAR_SECRET": "e2e-secret",
            "NOSTRBAZAAR_RELAYS": "",
            "NOSTRBAZAAR_EMBEDDED_RELAY_PORT": "0",  # a free one: servers run side by side
            "NOSTRBAZAAR_WALLET": "fake",
            "NOSTRBAZAAR_FIAT_RATES": "USD=1600,EUR=1700",
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        if self.sock is None:
            self.sock = _bound_socket(self.port)
        fd = self.sock.fileno()
        command = [sys.executable, "-m", "uvicorn", "nostrbazaar.app:create_app", "--factory"]
        command += ["--fd", str(fd), "--log-level", "warning"]
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                command, env=self.env, stdout=output, stderr=subprocess.STDOUT, pass_fds=(fd,)
            )
        _wait_healthy(self.url, self.process, self.log)

    def stop(self) -> None:
        """Stop the server and release the port (so clients see the connection refused)."""
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None
        if self.sock is not None:
            self.sock.close()
            self.sock = None


@pytest.fixture
def server_with(tmp_path: Path) -> Iterator[Callable[..., str]]:
    """Start a server with some NOSTRBAZAAR_* variables changed; returns its base URL."""
    started: list[ServerProcess] = []

    def start(**variables: str) -> str:
        process = ServerProcess(tmp_path / f"data{len(started)}")
        for name, value in variables.items():
            process.env[f"NOSTRBAZAAR_{name.upper()}"] = value
        started.append(process)
        process.start()
        return process.url

    yield start
    for process in started:
        process.stop()


@pytest.fixture
def server_process(tmp_path: Path) -> Iterator[ServerProcess]:
    """A started server that a test may stop and start again (same port, same data)."""
    process = ServerProcess(tmp_path / "data")
    process.start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
def module_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One server shared by a module's tests that only read (e.g. page logic)."""
    process = ServerProcess(tmp_path_factory.mktemp("server") / "data")
    process.start()
    try:
        yield process.url
    finally:
        process.stop()


@pytest.fixture
def server(server_process: ServerProcess) -> str:
    """The base URL of a started server."""
    return server_process.url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's chromium, headless, driven by Playwright (never a downloaded browser).

    Module-scoped, not session-scoped: Playwright's sync API keeps an event loop
    running in this thread while it is open, which would break the asyncio tests
    collected after tests/e2e.
    """
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: run `make test-deps` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def shoot() -> object:
    """Save a full-page screenshot under tests/e2e/screenshots/NAME.png."""
    SCREENSHOTS.mkdir(exist_ok=True)

    def take(page: object, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
        return path

    return take


class OpenedPage:
    """A page plus what it did that a test checks: foreign requests and console errors."""

    def __init__(self, page: Any, foreign: list[str], errors: list[str]) -> None:
        self.page = page
        self.foreign = foreign
        self.errors = errors

    def note_console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def note_request(self, base_url: str, url: str) -> None:
        if not url.startswith((base_url, "data:")):
            self.foreign.append(url)


@pytest.fixture
def open_page(browser: Any) -> Iterator[Callable[..., OpenedPage]]:
    """Open `base_url + path` in a fresh context at the named viewport (phone or desktop).

    With `nip07_secret` (64 hex characters) the page gets a stand-in NIP-07 extension.
    """
    contexts: list[Any] = []

    def opener(
        base_url: str, path: str, viewport: str = "desktop", nip07_secret: str | None = None
    ) -> OpenedPage:
        context = browser.new_context(viewport=VIEWPORTS[viewport])
        contexts.append(context)
        if nip07_secret is not None:
            shim = (Path(__file__).parent / "nip07_shim.js").read_text()
            context.add_init_script(shim.replace("__SECRET__", nip07_secret))
        page = context.new_page()
        page.set_default_timeout(15_000)
        opened = OpenedPage(page, [], [])
        page.on("request", lambda request: opened.note_request(base_url, request.url))
        page.on("console", opened.note_console)
        page.on("pageerror", lambda error: opened.errors.append(str(error)))
        page.goto(f"{base_url}{path}")
        return opened

    yield opener
    for context in contexts:
        context.close()
