"""A real relay (nostrbazaar's EmbeddedRelay, nostr-sdk's LocalRelay) in its own process on a
fixed 127.0.0.1 port, so a test can take it down and bring it back like a relay outage."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

from nostrbazaar.engine.embedded_relay import free_port

_SERVE = """
import asyncio, sys
from nostrbazaar.engine.embedded_relay import EmbeddedRelay

async def main(port):
    relay = EmbeddedRelay(port)
    await relay.start()
    print("ready", flush=True)
    await asyncio.Event().wait()

asyncio.run(main(int(sys.argv[1])))
"""


class RelayProcess:
    """`start()` listens on `port` (the same one each time); `stop()` kills the process."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> str:
        """Start the relay and wait until it accepts connections."""
        command = [sys.executable, "-c", _SERVE, str(self.port)]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the relay on port {self.port} exited at start")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self.url
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the relay on port {self.port} did not start")

    def stop(self) -> None:
        """Take the relay down at once (its connections drop)."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None
