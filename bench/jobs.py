"""The measurements `python -m bench` runs: their sizes, and each one run in a fresh process."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .common import REPO
from .pg_report import postgresql_jobs

PY = sys.executable


@dataclass
class Sizes:
    ingest_orders: int
    e2e_rate: float
    e2e_duration: float
    restore_orders: int
    api_orders: int
    api_requests: int
    growth: tuple[int, ...]
    file_orders: int  # restore from the history file, without a relay (for comparison)


# restore: 27,000 orders make about 100,000 DM events (3.75 per order, see bench/restore.py)
FULL = Sizes(10_000, 100, 60, 27_000, 100_000, 400, (1_000, 10_000, 100_000), 4_000)
QUICK = Sizes(1_000, 100, 10, 1_000, 10_000, 200, (500, 1_000, 4_000), 1_000)


@dataclass
class Job:
    name: str
    args: list[str]
    timeout: float
    runs: list[dict[str, Any]] = field(default_factory=list)


def run_module(module: str, args: list[str], timeout: float) -> dict[str, Any]:
    """`python -m bench.<module> ... --out FILE` in a fresh process; its JSON, or the error."""
    with tempfile.TemporaryDirectory(prefix="nb-bench-") as tmp:
        out = Path(tmp) / "result.json"
        command = [PY, "-m", f"bench.{module}", *args, "--out", str(out)]
        started = time.perf_counter()
        try:
            done = subprocess.run(
                command, cwd=REPO, capture_output=True, text=True, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired:
            return {"error": f"timed out after {timeout:.0f} s", "command": " ".join(command)}
        wall = round(time.perf_counter() - started, 1)
        if done.returncode != 0 or not out.exists():
            tail = (done.stderr or done.stdout).strip().splitlines()[-15:]
            return {"error": f"exit {done.returncode}", "stderr_tail": tail, "wall_s": wall}
        result: dict[str, Any] = json.loads(out.read_text())
        result["wall_s"] = wall
        return result


def run_script(path: str, args: list[str], timeout: float) -> dict[str, Any]:
    """The older scripts print their rates; keep the lines."""
    try:
        done = subprocess.run(
            [PY, path, *args], cwd=REPO, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0:
        return {"error": f"exit {done.returncode}", "lines": lines,
                "stderr_tail": done.stderr.strip().splitlines()[-10:]}  # fmt: skip
    return {"lines": lines}


def jobs_for(sizes: Sizes) -> dict[str, list[Job]]:
    """Growth runs bench/restore.py at each size: its first phase is an ingest of that
    many orders (timed), its last the restore of their history (timed; from the file,
    as loading 375,000 events onto a LocalRelay would take minutes)."""
    n = str(sizes.ingest_orders)
    return {
        "floor": [Job("floor", [], 600)],
        "ingest": [
            Job("ingest.nip04", ["--orders", n, "--transport", "nip04"], 1800),
            Job("ingest.nip17", ["--orders", n, "--transport", "nip17"], 1800),
            Job("ingest.gamma", ["--orders", n, "--transport", "gamma"], 1800),
        ],
        "end_to_end": [
            Job(
                "end_to_end",
                ["--rate", str(sizes.e2e_rate), "--duration", str(sizes.e2e_duration)],
                sizes.e2e_duration * 3 + 300,
            )
        ],
        "restore": [
            Job("restore", ["--orders", str(sizes.restore_orders)], 7200),
            Job("restore.file", ["--orders", str(sizes.file_orders), "--from-file"], 3600),
        ],
        "api": [
            Job(
                "api",
                ["--orders", str(sizes.api_orders), "--requests", str(sizes.api_requests)],
                1800,
            )
        ],
        "growth": [
            Job(f"growth.{size}", ["--orders", str(size), "--from-file"], 3 * 3600)
            for size in sizes.growth
        ],
        "settlement": [Job("settlement", ["--count", "20"], 1200)],
        # NIP-04 ingest on PostgreSQL beside `ingest.nip04`, and two instances against one
        "postgresql": [Job(*job) for job in postgresql_jobs(sizes.ingest_orders)],
    }


def module_for(job: Job) -> str:
    return "restore" if job.name.startswith(("growth.", "restore")) else job.name.split(".")[0]
