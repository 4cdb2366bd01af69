"""A real Cashu mint (nutshell, the `cashu` package 0.21.0) with its fake Lightning backend.

The `cashu` package pins FastAPI < 0.116, websockets < 13 and cryptography < 44,
so it cannot share the project's environment: it is installed once into
`.cache/cashu-venv` (a stamp file marks a finished install, a lock file keeps two
test runs from installing at once). The package index has no `breez-sdk-spark`
of the 0.17 series it asks for (only its Spark backend imports it), so the
package goes in with `--no-deps` and its requirements follow with that one
replaced by 0.18.x, plus `limits<4` and `marshmallow<3.24`, which its
dependencies need pinned.

The mint runs on 127.0.0.1 and a free port, in its own process group, with its
own HOME (no stray `.env` is read) and database in the test's directory, and
`FAKEWALLET_BRR` so that its fake Lightning backend settles every mint quote at
once. `mint_token` uses the mint's HTTP API (NUT-04 quote, then the client's
blind signatures): the tokens it makes are real, spendable proofs.
"""

from __future__ import annotations

import fcntl
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from nostrbazaar.engine.embedded_relay import free_port

VERSION = "0.21.0"
REPO_ROOT = Path(__file__).resolve().parents[2]
VENV = REPO_ROOT / ".cache" / "cashu-venv"
INSTALL_TIMEOUT = 900
START_TIMEOUT = 90
REPLACED = {"breez-sdk-spark": "breez-sdk-spark>=0.18,<0.19"}
EXTRA = ("limits<4", "marshmallow<3.24")


def ensure_installed(venv: Path = VENV) -> Path:
    """The venv's `mint` console script, installing the `cashu` package first when needed."""
    stamp = venv / f".installed-cashu-{VERSION}"
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / "cashu-install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not stamp.exists():
            _install(venv)
            stamp.touch()
    return venv / "bin" / "mint"


def _install(venv: Path) -> None:
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, "--no-deps", f"cashu=={VERSION}"], check=True, timeout=INSTALL_TIMEOUT)
    subprocess.run([*pip, *_requirements(python), *EXTRA], check=True, timeout=INSTALL_TIMEOUT)


def _requirements(python: Path) -> list[str]:
    """The package's own requirements, with the ones the index cannot give replaced."""
    listed = subprocess.run(
        [
            str(python),
            "-c",
            "import importlib.metadata as m; print('\\n'.join(m.requires('cashu')))",
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout.split("\n")
    out = []
    for line in filter(None, (raw.strip() for raw in listed)):
        name = line.split(" ")[0].split("[")[0].split(";")[0]
        out.append(REPLACED.get(name, line.replace(" (", "").replace(")", "")))
    return out


class CashuMint:
    """One nutshell mint process; `start()` waits until it answers `/v1/info`."""

    def __init__(self, work_dir: Path, private_key: str = "nostrbazaar-test-mint") -> None:
        self.work_dir = work_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.private_key = private_key
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = work_dir / "mint.log"

    def start(self) -> None:
        script = ensure_installed()
        home = self.work_dir / "home"
        data = self.work_dir / "data"
        home.mkdir(parents=True, exist_ok=True)
        data.mkdir(parents=True, exist_ok=True)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "MINT_BACKEND_BOLT11_SAT": "FakeWallet",
            "FAKEWALLET_BRR": "TRUE",
            "MINT_LISTEN_HOST": "127.0.0.1",
            "MINT_LISTEN_PORT": str(self.port),
            "MINT_PRIVATE_KEY": self.private_key,
            "MINT_DATABASE": str(data),
            "MINT_URL": self.url,
            "DEBUG": "FALSE",
        }
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [str(script)],
                cwd=self.work_dir,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            self._wait_until_up()
        except BaseException:
            self.stop()
            raise

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"the mint exited; see {self.log_path}")
            try:
                if httpx.get(f"{self.url}/v1/info", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise TimeoutError(f"the mint did not answer within {START_TIMEOUT} s; see {self.log_path}")

    def stop(self) -> None:
        """End the whole process group."""
        if self.process is None:
            return
        group = self.process.pid
        _signal(group, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            _signal(group, signal.SIGKILL)
            self.process.wait(timeout=15)
        self.process = None


class NutshellWallet:
    """The `cashu` package's own wallet (its CLI, in the same venv): the buyer's side, an
    implementation independent of ours. `fund` mints ecash (the fake backend settles the
    mint quote at once), `send` prints a token the way a wallet hands one over."""

    def __init__(self, work_dir: Path, mint_url: str) -> None:
        self.home = work_dir
        self.mint_url = mint_url
        work_dir.mkdir(parents=True, exist_ok=True)

    def _run(self, *args: str) -> str:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.home),
            "CASHU_DIR": str(self.home / ".cashu"),
            "MINT_URL": self.mint_url,
            "DEBUG": "FALSE",
            "TOR": "FALSE",
        }
        done = subprocess.run(
            [str(VENV / "bin" / "cashu"), "--yes", *args],
            env=env, capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip
        return done.stdout

    def fund(self, sats: int) -> None:
        self._run("invoice", str(sats))

    def receive(self, token: str) -> None:
        self._run("receive", token)

    def balance(self) -> int:
        found = re.search(r"Balance: (\d+) sat", self._run("balance"))
        return int(found.group(1)) if found else 0

    def invoice_only(self, sats: int) -> str:
        """A BOLT11 of the mint's fake backend, not paid (`--no-check`): something to melt to."""
        out = self._run("invoice", "--no-check", str(sats))
        found = re.search(r"lnbc[0-9a-z]+", out)
        if found is None:
            raise RuntimeError(f"no invoice in the wallet's answer: {out[-300:]}")
        return found.group(0)

    def send(self, sats: int, include_fees: bool = True, legacy: bool = False) -> str:
        """A token worth `sats` (plus the mint's fee for redeeming it, as Shopstr sends)."""
        flags = [*(["--include-fees"] if include_fees else []), *(["--legacy"] if legacy else [])]
        out = self._run("send", *flags, str(sats))
        found = re.search(r"cashu[AB][A-Za-z0-9_\-=]+", out)
        if found is None:
            raise RuntimeError(f"no token in the wallet's answer: {out[-300:]}")
        return found.group(0)


def _signal(group: int, sig: int) -> None:
    try:
        os.killpg(group, sig)
    except ProcessLookupError:
        pass


if __name__ == "__main__":  # python tests/support/cashu_mint.py: install only
    print(ensure_installed())
