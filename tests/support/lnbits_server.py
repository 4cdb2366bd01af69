"""A real LNbits 1.6.2 with its FakeWallet funding source, for the wallet tests.

Installed once into `.cache/lnbits/venv` (cached between runs; a stamp file marks
a finished install, a lock file keeps two test runs from installing at once),
started on 127.0.0.1 and a free port from a directory holding a `lnbits` link to
the installed package (LNbits looks for its static files relative to the working
directory), in its own process group so that `stop()` ends the server and every
worker it spawned.

After the first-install flow, it holds two wallets: `merchant` (the one under
test, by its invoice key) and `payer` (funded by the super user), which settles
merchant invoices by paying them: an internal payment, which LNbits settles at once.
"""

from __future__ import annotations

import atexit
import fcntl
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from nostrbazaar.engine.embedded_relay import free_port

VERSION = "1.6.2"
REPO_ROOT = Path(__file__).resolve().parents[2]
CACHE = REPO_ROOT / ".cache" / "lnbits"
INSTALL_TIMEOUT = 900
START_TIMEOUT = 90
# No extension manifests, exchange-rate providers or price aggregator: nothing leaves 127.0.0.1.
OFFLINE_ENV = {
    "LNBITS_BACKEND_WALLET_CLASS": "FakeWallet",
    "LNBITS_ADMIN_UI": "true",
    "LNBITS_EXTENSIONS_DEFAULT_INSTALL": "",
    "LNBITS_EXTENSIONS_MANIFESTS": "[]",
    "LNBITS_WASM_EXTENSIONS_MANIFESTS": "[]",
    "LNBITS_EXCHANGE_RATE_PROVIDERS": "[]",
    "LNBITS_PRICE_AGGREGATOR_ENABLED": "false",
    "LNBITS_RESERVE_FEE_MIN": "0",
    "DEBUG": "false",
}


def ensure_installed(cache: Path = CACHE) -> Path:
    """The venv's `lnbits` console script, installing LNbits first when needed."""
    venv = cache / "venv"
    stamp = venv / f".installed-lnbits-{VERSION}"
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / "install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not stamp.exists():
            _install(venv)
            stamp.touch()
    return venv / "bin" / "lnbits"


def _install(venv: Path) -> None:
    if not (venv / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = [
        str(venv / "bin" / "python"),
        "-m",
        "pip",
        "install",
        "-q",
        "--disable-pip-version-check",
    ]
    subprocess.run([*pip, f"lnbits=={VERSION}", "bitstring<5"], check=True, timeout=INSTALL_TIMEOUT)


def package_dir(venv: Path) -> Path:
    """Where the venv installed the `lnbits` package."""
    found = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import lnbits, os; print(os.path.dirname(lnbits.__file__))",
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return Path(found.stdout.strip())


@dataclass
class LNbitsWalletKeys:
    id: str
    adminkey: str
    inkey: str


class LNbitsServer:
    """One LNbits process; `start()` waits until it answers and sets up wallets."""

    def __init__(self, work_dir: Path) -> None:
        self.work_dir = work_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.merchant: LNbitsWalletKeys | None = None
        self.payer: LNbitsWalletKeys | None = None
        self.log_path = work_dir / "lnbits.log"
        self.extra_env: dict[str, str] = {}  # more environment for the process (set before start)
        self.admin_token: str | None = None  # the super user's access token, after start

    def start(self) -> None:
        """Install if needed, launch, and create the merchant and funded payer wallets."""
        self._launch()
        try:
            self._set_up_wallets()
        except BaseException:
            self.stop()
            raise

    def restart(self) -> None:
        """Stop the process and start it again on the same data (no set-up: it is there)."""
        self.stop()
        self._launch()

    def _launch(self) -> None:
        script = ensure_installed()
        run_dir = self.work_dir / "run"
        data_dir = self.work_dir / "data"
        run_dir.mkdir(parents=True, exist_ok=True)
        data_dir.mkdir(parents=True, exist_ok=True)
        link = run_dir / "lnbits"
        if not link.exists():
            link.symlink_to(package_dir(script.parent.parent))
        env = {**os.environ, **OFFLINE_ENV, "LNBITS_DATA_FOLDER": str(data_dir), **self.extra_env}
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [str(script), "--host", "127.0.0.1", "--port", str(self.port)],
                cwd=run_dir,
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

    def stop(self) -> None:
        """End the whole process group: the parent alone would leave the server running."""
        if self.process is None:
            return
        group = self.process.pid
        _signal_group(group, signal.SIGTERM)
        if not _group_gone(self.process, timeout=15):
            _signal_group(group, signal.SIGKILL)
            _group_gone(self.process, timeout=15)
        self.process = None

    def pay(self, bolt11: str) -> dict[str, Any]:
        """Pay a merchant invoice from the payer wallet (internal payment: settles it)."""
        assert self.payer is not None
        response = httpx.post(
            f"{self.url}/api/v1/payments",
            headers={"X-Api-Key": self.payer.adminkey},
            json={"out": True, "bolt11": bolt11},
            timeout=30,
        )
        response.raise_for_status()
        return dict(response.json())

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError(f"LNbits exited during start-up:\n{self.log_tail()}")
            try:
                httpx.get(f"{self.url}/api/v1/health", timeout=2)
                return
            except httpx.HTTPError:
                time.sleep(0.3)
        raise RuntimeError(f"LNbits did not answer within {START_TIMEOUT}s:\n{self.log_tail()}")

    def _set_up_wallets(self) -> None:
        """First install (super user), two wallets, and a balance for the payer."""
        with httpx.Client(base_url=self.url, timeout=30) as http:
            password = os.urandom(12).hex()
            token = _ok(
                http.put(
                    "/api/v1/auth/first_install",
                    json={"username": "admin", "password": password, "password_repeat": password},
                )
            )["access_token"]
            self.admin_token = token
            self.merchant = _keys(_ok(http.post("/api/v1/account", json={"name": "merchant"})))
            self.payer = _keys(_ok(http.post("/api/v1/account", json={"name": "payer"})))
            _ok(
                http.put(
                    "/users/api/v1/balance",
                    headers={"Authorization": f"Bearer {token}"},
                    json={"id": self.payer.id, "amount": 5_000_000},
                )
            )


def _signal_group(group: int, sig: signal.Signals) -> None:
    try:
        os.killpg(group, sig)
    except ProcessLookupError:
        pass


def _group_gone(process: subprocess.Popen[bytes], timeout: float) -> bool:
    """Wait until no process of the group is left (workers outlive the parent briefly)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        process.poll()
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def _ok(response: httpx.Response) -> dict[str, Any]:
    if response.status_code >= 400:
        raise RuntimeError(f"LNbits set-up failed: {response.status_code} {response.text[:300]}")
    return dict(response.json())


def _keys(wallet: dict[str, Any]) -> LNbitsWalletKeys:
    return LNbitsWalletKeys(wallet["id"], wallet["adminkey"], wallet["inkey"])


_shared: list[LNbitsServer] = []
_users: list[int] = [0]


def acquire_shared(work_dir: Path) -> LNbitsServer:
    """One server for every test module of a run; pair each call with `release_shared()`."""
    if not _shared:
        server = LNbitsServer(work_dir)
        server.start()
        _shared.append(server)
        atexit.register(server.stop)  # a run cut short still leaves no server behind
    _users[0] += 1
    return _shared[0]


def release_shared() -> None:
    """Stop the shared server once its last user is done."""
    _users[0] -= 1
    if _users[0] == 0 and _shared:
        _shared.pop().stop()
