"""The packaged extension's code on LNbits' own Python: pydantic 1.10, coincurve, no
`secp256k1`, no `orjson` (LNbits installs none of an extension's dependencies)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from support.lnbits_server import ensure_installed

pytestmark = pytest.mark.lnbits
HERE = Path(__file__).resolve().parent

IMPORT_ALL = """
import importlib, pkgutil, sys
import nostrbazaar
failed = []
for module in pkgutil.walk_packages(nostrbazaar.__path__, "nostrbazaar."):
    try:
        importlib.import_module(module.name)
    except Exception as error:
        failed.append(f"{module.name}: {type(error).__name__}: {error}")
for name in ("secp256k1", "orjson"):
    assert name not in sys.modules, name + " was imported"
print("\\n".join(failed) or "ok")
"""


def _lnbits_python() -> str:
    return str(ensure_installed().parent / "python")


def _run(ext: Path, args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ext)}
    return subprocess.run(
        [_lnbits_python(), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=180
    )


def test_lnbits_venv_has_what_the_issue_says_and_lacks_the_rest(tmp_path: Path) -> None:
    probe = (
        "import importlib.util as u, pydantic, fastapi\n"
        "print(pydantic.VERSION, fastapi.__version__,"
        " *[bool(u.find_spec(n)) for n in ('coincurve', 'secp256k1', 'orjson')])"
    )
    found = subprocess.run(
        [_lnbits_python(), "-c", probe], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert found.stdout.split() == ["1.10.27", "0.116.2", "True", "False", "False"]


def test_every_module_of_the_package_imports_on_lnbits_python(
    extracted_extension: Path, tmp_path: Path
) -> None:
    found = _run(extracted_extension, ["-c", IMPORT_ALL], tmp_path)
    assert found.returncode == 0, found.stderr[-2000:]
    assert found.stdout.strip() == "ok"


def test_the_api_answers_on_pydantic_1_as_on_pydantic_2(
    extracted_extension: Path, tmp_path: Path
) -> None:
    found = _run(
        extracted_extension, [str(HERE / "smoke_pydantic1.py"), str(tmp_path / "d")], tmp_path
    )
    assert found.returncode == 0, found.stderr[-3000:]
    lines = [json.loads(line) for line in found.stdout.splitlines()]
    assert lines[0] == ["versions", "1.10.27", "coincurve"]
    seen: dict[str, tuple[int, Any]] = {name: (code, body) for name, code, body in lines[1:]}
    statuses = {name: code for name, (code, _) in seen.items()}
    assert statuses == {
        "account": 200, "bad key": 422, "merchant": 200, "unknown field": 422, "zone": 200,
        "stall": 200, "product": 200, "string quantity": 422, "ftp image": 422, "patch": 200,
        "invoice key write": 401, "orders": 200, "bad pubkey": 422, "delete": 204,
        "health": 200, "openapi": 200, "market": 200,
    }  # fmt: skip
    assert "nsec or 64 hex" in seen["bad key"][1]["detail"][0]["msg"]
    assert seen["unknown field"][1]["detail"][0]["loc"] == ["body", "colour"]
    assert seen["zone"][1]["cost"] == 12.5
    stall = seen["stall"][1]
    assert stall["name"] == "Green" and stall["event_id"]
    assert seen["product"][1]["categories"] == ["tea"]
    assert seen["patch"][1]["quantity"] == 3 and seen["patch"][1]["price"] == 2100
    assert seen["bad pubkey"][1]["detail"][0]["loc"] == ["query", "pubkey"]
