"""A configuration or start-up error is one line naming the problem, a non-zero exit at
once, and nothing left running: the real `nostrbazaar serve` in a subprocess."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from nostrbazaar.engine.embedded_relay import free_port

EXIT_WITHIN = 15.0  # seconds; a failed start takes about one


def _command() -> list[str]:
    script = shutil.which("nostrbazaar", path=str(Path(sys.executable).parent))
    return [script, "serve"] if script else [sys.executable, "-m", "nostrbazaar.cli", "serve"]


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


class Failed:
    def __init__(self, code: int, stderr: str, seconds: float) -> None:
        self.code, self.lines, self.seconds = code, stderr.strip().splitlines(), seconds


@pytest.fixture
def ports() -> tuple[int, int]:
    return free_port(), free_port()


def serve(tmp_path: Path, ports: tuple[int, int], **variables: str) -> Failed:
    """Run `nostrbazaar serve` and wait (bounded) for it to exit by itself."""
    env = {
        **os.environ,
        "NOSTRBAZAAR_DATA_DIR": str(tmp_path / "data"),
        "NOSTRBAZAAR_HOST": "127.0.0.1",
        "NOSTRBAZAAR_PORT": str(ports[0]),
        "NOSTRBAZAAR_EMBEDDED_RELAY_PORT": str(ports[1]),
        "NOSTRBAZAAR_LOG_LEVEL": "ERROR",
        **{f"NOSTRBAZAAR_{name}": value for name, value in variables.items()},
    }
    started = time.monotonic()
    process = subprocess.Popen(
        _command(), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        _, stderr = process.communicate(timeout=EXIT_WITHIN)
    except subprocess.TimeoutExpired:
        process.kill()
        _, stderr = process.communicate(timeout=10)
        raise AssertionError(f"still running after {EXIT_WITHIN} s:\n{stderr}") from None
    return Failed(process.returncode, stderr, time.monotonic() - started)


@pytest.fixture
def taken() -> Iterator[int]:
    """A port another process (here: a plain socket) listens on."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def test_lnbits_without_its_url_is_one_line_naming_the_variable(
    tmp_path: Path, ports: tuple[int, int]
) -> None:
    failed = serve(tmp_path, ports, WALLET="lnbits")
    assert failed.code == 2
    assert len(failed.lines) == 1, failed.lines
    assert failed.lines[0].startswith("configuration error: NOSTRBAZAAR_LNBITS_URL: required")
    assert not _listening(ports[1]) and not _listening(ports[0])


@pytest.mark.parametrize(
    ("variable", "value"),
    [("PORT", "http"), ("WALLET", "paypal"), ("EMBEDDED_RELAY_PORT", "-1"), ("NWC_URI", "x")],
)
def test_a_bad_value_is_one_line_naming_the_variable(
    tmp_path: Path, ports: tuple[int, int], variable: str, value: str
) -> None:
    failed = serve(tmp_path, ports, **{variable: value})
    assert (failed.code, len(failed.lines)) == (2, 1), failed.lines
    assert f"NOSTRBAZAAR_{variable}" in failed.lines[0]


def test_an_unreachable_wallet_stops_the_relay_and_the_database_it_had_started(
    tmp_path: Path, ports: tuple[int, int]
) -> None:
    closed = free_port()  # nothing listens there
    failed = serve(
        tmp_path, ports, WALLET="lnbits", LNBITS_URL=f"http://127.0.0.1:{closed}",
        LNBITS_INVOICE_KEY="key",
    )  # fmt: skip
    assert failed.code == 2
    assert len(failed.lines) == 1, failed.lines
    assert failed.lines[0].startswith("cannot start: lnbits backend: cannot reach LNbits")
    assert not _listening(ports[1])  # the embedded relay had started, and was stopped
    assert (tmp_path / "data" / "nostrbazaar.sqlite3").exists()  # so had the database


def test_a_relay_port_in_use_names_the_variable(
    tmp_path: Path, ports: tuple[int, int], taken: int
) -> None:
    failed = serve(tmp_path, (ports[0], taken))
    assert (failed.code, len(failed.lines)) == (2, 1), failed.lines
    assert failed.lines[0].startswith("configuration error: NOSTRBAZAAR_EMBEDDED_RELAY_PORT")
    assert not _listening(ports[0])


def test_a_server_port_in_use_names_the_variable_and_starts_nothing(
    tmp_path: Path, ports: tuple[int, int], taken: int
) -> None:
    failed = serve(tmp_path, (taken, ports[1]))
    assert (failed.code, len(failed.lines)) == (2, 1), failed.lines
    assert failed.lines[0].startswith("configuration error: NOSTRBAZAAR_PORT: cannot listen")
    assert not _listening(ports[1])
    assert not (tmp_path / "data").exists()
