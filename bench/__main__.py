"""`make bench` / `.venv/bin/python -m bench [--quick] [--only NAME ...] [--runs N]`.

Runs each measurement in its own process (so peak memory is that measurement's),
twice by default because the machine is shared and figures are noisy, prints a
table of every figure against its target, and writes everything, with the
machine, the commit and the date, to bench/results/latest.json.

Measurements: floor (the protocol floor the ingest and restore costs are divided by),
ingest, end_to_end, restore, api, growth, settlement, postgresql (NIP-04 ingest on a
throwaway PostgreSQL database, and two instances on one; with `ingest` it gives
PostgreSQL's figures over SQLite's from the same run), plus the older protocol and
wallets scripts (their printed rates are kept as text).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .common import REPO, RESULTS, git_commit, machine, now_iso
from .jobs import FULL, PY, QUICK, Job, Sizes, jobs_for, module_for, run_module, run_script
from .pg_report import TARGETS as PG_TARGETS
from .pg_report import postgresql_summary

# ----------------------------------------------------------------- the table


@dataclass(frozen=True)
class Target:
    label: str
    job: str
    key: str
    bound: float | None  # None: a figure shown beside the others, without a target
    higher_is_better: bool
    unit: str

    def passes(self, value: float | None) -> bool | None:
        if value is None or self.bound is None:
            return None
        return value >= self.bound if self.higher_is_better else value <= self.bound

    def text(self) -> str:
        if self.bound is None:
            return f"({self.unit})"
        return f"{'>=' if self.higher_is_better else '<='} {self.bound:,g} {self.unit}"


def targets(sizes: Sizes) -> list[Target]:
    big = sizes.growth[-1]
    return [
        Target("ingest NIP-04", "ingest.nip04", "orders_per_cpu_s", 1000, True, "orders/CPU-s"),
        Target("  its p99", "ingest.nip04", "p99_ms", 50, False, "ms"),
        Target("  x the protocol floor", "ratios", "nip04", 5, False, "x"),
        Target("ingest NIP-17", "ingest.nip17", "orders_per_cpu_s", 600, True, "orders/CPU-s"),
        Target("  x the protocol floor", "ratios", "nip17", 2, False, "x"),
        Target(
            "ingest Gamma (kind 16)", "ingest.gamma", "orders_per_cpu_s", 600, True, "orders/CPU-s"
        ),
        Target("  x the protocol floor", "ratios", "gamma", 2, False, "x"),
        Target("end to end p99", "end_to_end", "p99_ms", 50, False, "ms"),
        Target("end to end lost", "end_to_end", "lost", 0, False, "orders"),
        Target("restore from a relay", "restore", "events_per_cpu_s", 5000, True, "events/CPU-s"),
        Target("  x the protocol floor", "ratios", "restore", 2.5, False, "x"),
        Target("  all events fetched", "restore", "all_fetched", 1, True, "(1 = yes)"),
        Target("  state equal", "restore", "equal", 1, True, "(1 = yes)"),
        Target(
            "restore from a file", "restore.file", "events_per_cpu_s", 5000, True, "events/CPU-s"
        ),
        Target("  state equal", "restore.file", "equal", 1, True, "(1 = yes)"),
        Target("API GET /order p99", "api", "p99_ms", 50, False, "ms"),
        Target(f"peak memory, ingest {big:,}", "growth", "ingest_peak_rss_mb", 200, False, "MB"),
        Target(f"peak memory, restore {big:,}", "growth", "restore_peak_rss_mb", 200, False, "MB"),
        Target("growth ingest cost ratio", "growth", "ingest_ratio", 1.5, False, "x"),
        Target("growth restore cost ratio", "growth", "restore_ratio", 1.5, False, "x"),
        *(Target(label, "postgresql", key, *rest) for label, key, *rest in PG_TARGETS),
    ]


def figure(runs: list[dict[str, Any]], key: str) -> list[float | None]:
    values: list[float | None] = []
    for run in runs:
        value = run.get(key)
        if isinstance(value, bool):
            value = float(value)
        values.append(float(value) if isinstance(value, int | float) else None)
    return values


def growth_summary(jobs: dict[str, Job], sizes: Sizes, runs: int) -> list[dict[str, Any]]:
    """Per run: ingest ms per order and restore ms per event at each size, and the ratio
    of the largest size's cost to the smallest's (1.0 = flat)."""
    summary = []
    for i in range(runs):
        entry: dict[str, Any] = {}
        for kind, pick in (("ingest", _ingest_cost), ("restore", _restore_cost)):
            costs = {}
            for size in sizes.growth:
                job = jobs.get(f"growth.{size}")
                run = job.runs[i] if job and len(job.runs) > i else {}
                costs[size] = pick(run)
            entry[f"{kind}_ms_per_{'order' if kind == 'ingest' else 'event'}"] = costs
            first, last = costs.get(sizes.growth[0]), costs.get(sizes.growth[-1])
            if isinstance(first, int | float) and isinstance(last, int | float) and first:
                entry[f"{kind}_ratio"] = round(last / first, 3)
        big = jobs.get(f"growth.{sizes.growth[-1]}")
        run = big.runs[i] if big and len(big.runs) > i else {}
        entry["ingest_peak_rss_mb"] = run.get("ingest", {}).get("peak_rss_mb")
        entry["restore_peak_rss_mb"] = run.get("peak_rss_mb")
        entry["restore_equal"] = run.get("equal")
        summary.append(entry)
    return summary


# What each figure is divided by: the job, its CPU cost per item, and the floor's key.
_FLOORED = {
    "nip04": ("ingest.nip04", "cpu_ms_per_order", "nip04_order_us"),
    "nip17": ("ingest.nip17", "cpu_ms_per_order", "nip17_order_us"),
    "gamma": ("ingest.gamma", "cpu_ms_per_order", "nip17_order_us"),
    "restore": ("restore", "events_per_cpu_s", "restored_event_us"),
    "restore_file": ("restore.file", "events_per_cpu_s", "restored_event_us"),
}


def floor_ratios(jobs: dict[str, Job], runs: int) -> list[dict[str, Any]]:
    """Per run: each ingest and restore cost as a multiple of the same run's protocol floor
    (bench/floor.py), the headline of issue 21."""
    floor = jobs.get("floor")
    ratios = []
    for i in range(runs):
        base = floor.runs[i] if floor and len(floor.runs) > i else {}
        entry: dict[str, Any] = {}
        for name, (job_name, key, floor_key) in _FLOORED.items():
            job = jobs.get(job_name)
            run = job.runs[i] if job and len(job.runs) > i else {}
            entry[name] = _ratio(run.get(key), key, base.get(floor_key))
        ratios.append(entry)
    return ratios


def _ratio(value: Any, key: str, floor_us: Any) -> float | None:
    if not isinstance(value, int | float) or not isinstance(floor_us, int | float) or not value:
        return None
    cost_us = value * 1000 if key.startswith("cpu_ms") else 1e6 / value
    return round(cost_us / floor_us, 2)


def _ingest_cost(run: dict[str, Any]) -> float | None:
    value = run.get("ingest", {}).get("ms_per_order")
    return float(value) if isinstance(value, int | float) else None


def _restore_cost(run: dict[str, Any]) -> float | None:
    value = run.get("ms_per_event")
    return float(value) if isinstance(value, int | float) else None


def verdict(target: Target, values: list[float | None]) -> str:
    known = [v for v in values if v is not None]
    if not known:
        return "n/a"
    if target.bound is None:
        return ""
    best = max(known) if target.higher_is_better else min(known)
    return "PASS" if target.passes(best) else "MISS"


def fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"


def print_table(rows: list[dict[str, Any]]) -> None:
    header = f"{'figure':<32} {'run 1':>10} {'run 2':>10}   {'target':<20} verdict"
    print(header)
    print("-" * len(header))
    for row in rows:
        values = row["values"] + [None] * (2 - len(row["values"]))
        print(
            f"{row['label']:<32} {fmt(values[0]):>10} {fmt(values[1]):>10}   "
            f"{row['target']:<20} {row['verdict']}"
        )


def print_details(jobs: dict[str, Job]) -> None:
    keys = (
        "orders_per_s", "orders_per_cpu_s", "events_per_s", "events_per_cpu_s", "p50_ms",
        "p99_ms", "max_ms", "peak_rss_mb", "ms_per_order", "ms_per_event", "sent", "received",
        "lost", "lost_but_on_relay", "send_errors", "loaded_on_relay", "fetched", "equal", "error",
    )  # fmt: skip
    for job in jobs.values():
        for i, run in enumerate(job.runs, start=1):
            shown = ", ".join(f"{k}={run[k]}" for k in keys if k in run)
            if isinstance(run.get("ingest"), dict):
                shown += f"; ingest phase: {run['ingest']}"
            print(f"  {job.name} run {i}: {shown}")


# ----------------------------------------------------------------- main

ALL = ["floor", "ingest", "end_to_end", "restore", "api", "growth", "settlement", "postgresql",
       "protocol", "wallets"]  # fmt: skip
SCRIPTS: dict[str, Callable[[], dict[str, Any]]] = {
    "protocol": lambda: run_script("bench/protocol.py", [], 600),
    "wallets": lambda: run_script(
        "bench/wallets.py", ["--no-lnbits", "--invoices", "2000", "--payments", "20"], 600
    ),
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="everything smaller (minutes)")
    parser.add_argument("--runs", type=int, default=2, help="runs of each measurement")
    parser.add_argument("--only", nargs="*", default=None, help=" ".join(ALL))
    parser.add_argument("--duration", type=float, help="end-to-end seconds (default 60)")
    parser.add_argument("--out", type=Path, default=RESULTS / "latest.json")
    parser.add_argument(
        "--snapshot",
        action="store_true",
        help="measure HEAD exported to a temporary directory, not the working tree "
        "(which others may be editing during a long run)",
    )
    return parser.parse_args()


def run_snapshot(argv: list[str], out: Path) -> int:
    """Export HEAD, run the harness there (same venv, the copy first on the path)."""
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="nb-bench-snapshot-") as tmp:
        root = Path(tmp) / "nostrbazaar"
        root.mkdir()
        archive = subprocess.run(
            ["git", "archive", "HEAD"], cwd=REPO, capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(root)], input=archive, check=True)
        env = {**os.environ, "PYTHONPATH": tmp, "NOSTRBAZAAR_BENCH_COMMIT": commit}
        args = [a for a in argv if a != "--snapshot"]
        command = [PY, "-m", "bench", *args, "--out", str(out.resolve())]
        print(f"measuring commit {commit[:10]} exported to {root}", flush=True)
        return subprocess.run(command, cwd=root, env=env, check=False).returncode


def run_jobs(jobs: dict[str, Job], runs: int, report: dict[str, Any], out: Path) -> None:
    """Run every job `runs` times; the results so far are written after each job, so a
    long run that is cut short still leaves its figures."""
    for i in range(runs):
        for job in jobs.values():
            stamp = time.strftime("%H:%M:%S")
            print(f"[{stamp}] run {i + 1}/{runs}: {job.name} ...", flush=True)
            result = run_module(module_for(job), job.args, job.timeout)
            job.runs.append(result)
            if "error" in result:
                print(f"    error: {result['error']} {result.get('stderr_tail', '')}", flush=True)
            else:
                shown = {k: v for k, v in result.items() if not isinstance(v, dict | list)}
                print(f"    {shown}", flush=True)
            partial = {**report, "complete": False}
            partial["results"] = {name: job.runs for name, job in jobs.items()}
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(partial, indent=2, default=str))


def table_rows(
    sizes: Sizes, jobs: dict[str, Job], growth: list[dict[str, Any]],
    postgresql: list[dict[str, Any]], ratios: list[dict[str, Any]],
) -> list[dict[str, Any]]:  # fmt: skip
    rows = []
    for target in targets(sizes):
        if target.job == "growth":
            values = figure(growth, target.key) if growth else []
        elif target.job == "ratios":
            values = figure(ratios, target.key)
        elif target.job == "postgresql":
            values = figure(postgresql, target.key)
        elif target.job in jobs:
            values = figure(jobs[target.job].runs, target.key)
        else:
            continue
        if not any(value is not None for value in values):
            continue
        rows.append(
            {
                "label": target.label,
                "values": values,
                "target": target.text(),
                "verdict": verdict(target, values),
            }
        )
    return rows


def print_report(report: dict[str, Any], jobs: dict[str, Job]) -> None:
    git, box = report["git"], report["machine"]
    dirty = " (+ uncommitted changes)" if git["dirty_tracked_files"] else ""
    print(
        f"\nnostrbazaar benchmarks, {report['mode']} mode, {report['date']}, "
        f"commit {git['commit'][:10]}{dirty}, "
        f"{box['cores']} cores, Python {box['python']}"
    )
    print_table(report["table"])
    print("\nverdict: on the better run (the machine is shared; noise only slows things)\n")
    print_details(jobs)
    for entry in report["growth"]:
        print(f"  growth: {entry}")
    for i, entry in enumerate(report["floor_ratios"], start=1):
        print(f"  run {i}, cost as a multiple of the protocol floor: {entry}")
    for entry in report["postgresql"]:
        print(f"  postgresql: {entry}")
    for name in SCRIPTS:
        if name in report:
            print(f"\n{name}:")
            for line in report[name].get("lines", []):
                print(f"  {line}")
            if "error" in report[name]:
                print(f"  error: {report[name]['error']}")


def main() -> None:
    args = parse_args()
    if args.snapshot:
        argv = [a for a in sys.argv[1:] if a != "--snapshot"]
        if "--out" in argv:  # the copy writes where the caller asked
            i = argv.index("--out")
            del argv[i : i + 2]
        sys.exit(run_snapshot(argv, args.out))
    sizes = QUICK if args.quick else FULL
    if args.duration:
        sizes.e2e_duration = args.duration
    wanted = args.only or ALL
    report: dict[str, Any] = {
        "date": now_iso(),
        "git": git_commit(),
        "machine": machine(),
        "mode": "quick" if args.quick else "full",
        "runs": args.runs,
        "sizes": sizes.__dict__ | {"growth": list(sizes.growth)},
    }
    jobs = {
        job.name: job
        for group, group_jobs in jobs_for(sizes).items()
        if group in wanted
        for job in group_jobs
    }
    run_jobs(jobs, args.runs, report, args.out)
    report["complete"] = True
    report["results"] = {name: job.runs for name, job in jobs.items()}
    report["growth"] = growth_summary(jobs, sizes, args.runs) if "growth" in wanted else []
    report["postgresql"] = postgresql_summary({name: job.runs for name, job in jobs.items()})
    for name, script in SCRIPTS.items():
        if name in wanted:
            print(f"[{time.strftime('%H:%M:%S')}] {name} ...", flush=True)
            report[name] = script()
    report["floor_ratios"] = floor_ratios(jobs, args.runs)
    report["table"] = table_rows(
        sizes, jobs, report["growth"], report["postgresql"], report["floor_ratios"]
    )
    print_report(report, jobs)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, default=str))
    print(f"\nwritten to {args.out}")


if __name__ == "__main__":
    main()
