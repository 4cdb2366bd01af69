"""`nostrbazaar serve` in a subprocess on 127.0.0.1: started, killed (SIGKILL) or stopped.

For tests of what survives a crash: the process is the real entry point, with its
own event loop, database writer and relay pool; the test only sees its relays and its
database file.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
from nostrbazaar.engine.embedded_relay import free_port

STARTUP_TIMEOUT = 30.0


def _command() -> list[str]:
    script = shutil.which("nostrbazaar", path=str(Path(sys.executable).parent))
    return [script, "serve"] if script else [sys.executable, "-m", "nostrbazaar.cli", "serve"]


class ServeProcess:
    """One server on a data directory; `start` again after `kill` reopens the same data."""

    def __init__(self, data_dir: Path, **variables: str) -> None:
        self.data_dir = data_dir
        self.log = data_dir.parent / f"{data_dir.name}.log"
        self.env = {
            **os.environ,
            "NOSTRBAZAAR_DATA_DIR": str(data_dir),
            "NOSTRBAZAAR_HOST": "127.0.0.1",
            "NOSTRBAZAAR_WALLET": "fake",
            **{f"NOSTRBAZAAR_{name.upper()}": value for name, value in variables.items()},
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    async def start(self) -> None:
        """Start and wait (bounded) until /api/v1/health answers."""
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        env = {**self.env, "NOSTRBAZAAR_PORT": str(port)}
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                _command(), env=env, stdout=output, stderr=subprocess.STDOUT
            )
        await self._wait_healthy()

    async def _wait_healthy(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STARTUP_TIMEOUT
        async with httpx.AsyncClient() as http:
            while loop.time() < deadline:
                if self.process is None or self.process.poll() is not None:
                    raise RuntimeError(f"server exited early:\n{self.log.read_text()}")
                try:
                    if (await http.get(f"{self.url}/api/v1/health", timeout=1)).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError(f"server did not become healthy:\n{self.log.read_text()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash or an OOM kill."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not end within ten seconds."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None
