"""PostgreSQL's rows in `python -m bench`'s table: NIP-04 ingest on PostgreSQL beside
SQLite's from the same run (their ratio, the target: at least half), and two instances
on one database against one."""

from __future__ import annotations

from typing import Any

SQLITE_JOB, PG_JOB, INSTANCES_JOB = "ingest.nip04", "ingest_pg.nip04", "instances"


def postgresql_jobs(orders: int) -> list[tuple[str, list[str], float]]:
    """(name, arguments, timeout) of the PostgreSQL measurements, `orders` orders each;
    SQLite's NIP-04 ingest is among them (one job by name when `ingest` runs too), so
    `--only postgresql` still compares the two engines in one run."""
    n = str(orders)
    return [
        (SQLITE_JOB, ["--orders", n, "--transport", "nip04"], 1800),
        (PG_JOB, ["--orders", n, "--transport", "nip04"], 1800),
        (INSTANCES_JOB, ["--orders", n], 3600),
    ]


def _number(run: dict[str, Any], key: str) -> float | None:
    value = run.get(key)
    return float(value) if isinstance(value, int | float) else None


def postgresql_summary(runs_by_job: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Per run: PostgreSQL's ingest figures over SQLite's from the same run (orders/s,
    CPU per order of ours, p99), and two instances over one."""
    sqlite, pg = runs_by_job.get(SQLITE_JOB, []), runs_by_job.get(PG_JOB, [])
    instances = runs_by_job.get(INSTANCES_JOB, [])
    summary = []
    for i in range(max(len(pg), len(instances))):
        lite = sqlite[i] if i < len(sqlite) else {}
        post = pg[i] if i < len(pg) else {}
        entry: dict[str, Any] = {}
        for key in ("orders_per_s", "cpu_ms_per_order", "p99_ms"):
            a, b = _number(post, key), _number(lite, key)
            entry[f"sqlite_{key}"], entry[f"postgresql_{key}"] = b, a
            if a is not None and b:
                entry[f"{key}_ratio"] = round(a / b, 3)
        entry["postgresql_server_cpu_ms_per_order"] = _number(post, "server_cpu_ms_per_order")
        two = instances[i] if i < len(instances) else {}
        for key in ("orders_per_s_1", "orders_per_s_2", "cpu_ms_per_order_1",
                    "cpu_ms_per_order_2", "two_over_one"):  # fmt: skip
            entry[f"instances_{key}"] = _number(two, key)
        summary.append(entry)
    return summary


# (label, key in the summary, bound or None for a figure shown without a target,
#  higher is better, unit)
TARGETS: list[tuple[str, str, float | None, bool, str]] = [
    ("ingest NIP-04, PostgreSQL", "postgresql_orders_per_s", None, True, "orders/s"),
    ("  PostgreSQL / SQLite", "orders_per_s_ratio", 0.5, True, "x"),
    ("  CPU ms/order PG (ours)", "postgresql_cpu_ms_per_order", None, False, "ms"),
    ("  CPU ms/order PG (server)", "postgresql_server_cpu_ms_per_order", None, False, "ms"),
    ("  CPU ms/order SQLite", "sqlite_cpu_ms_per_order", None, False, "ms"),
    ("  p99 PostgreSQL", "postgresql_p99_ms", None, False, "ms"),
    ("  p99 SQLite", "sqlite_p99_ms", None, False, "ms"),
    ("one instance on PostgreSQL", "instances_orders_per_s_1", None, True, "orders/s"),
    ("two instances, one database", "instances_orders_per_s_2", None, True, "orders/s"),
    ("  two / one", "instances_two_over_one", None, True, "x"),
    ("  CPU ms/order, one", "instances_cpu_ms_per_order_1", None, False, "ms"),
    ("  CPU ms/order, two", "instances_cpu_ms_per_order_2", None, False, "ms"),
]
