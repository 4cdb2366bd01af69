"""`make package`: the archive an LNbits admin installs, and the manifest LNbits reads it from."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import subprocess
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _package_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("package_script", ROOT / "scripts/package.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """`make package` into a temporary folder (the same command, another output)."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        ["make", "-s", "package", "PACKAGE_URL=http://127.0.0.1:9/shop", f"DIST={out}"],
        cwd=ROOT,
        check=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "MAKEFLAGS": ""},
        capture_output=True,
    )
    version = json.loads((ROOT / "config.json").read_text())["version"]
    return out / f"nostrbazaar-{version}.zip", out / "manifest.json"


def test_the_archive_has_one_top_folder_named_for_the_extension(built: tuple[Path, Path]) -> None:
    names = zipfile.ZipFile(built[0]).namelist()
    assert {name.split("/")[0] for name in names} == {"nostrbazaar"}


def test_the_archive_holds_what_lnbits_loads(built: tuple[Path, Path]) -> None:
    names = set(zipfile.ZipFile(built[0]).namelist())
    for wanted in (
        "config.json",
        "__init__.py",
        "migrations.py",
        "views.py",
        "views_api.py",
        "models.py",
        "static/js/api.js",
        "templates/nostrbazaar/index.html",
        "nostr/keys.py",
        "engine/runtime.py",
    ):
        assert f"nostrbazaar/{wanted}" in names, wanted


def test_tests_bench_scripts_and_dev_files_stay_out(built: tuple[Path, Path]) -> None:
    names = zipfile.ZipFile(built[0]).namelist()
    parts = {part for name in names for part in name.split("/")[1:2]}
    assert not parts & {"tests", "bench", "scripts", "docs", "data", ".cache", ".venv", "dist"}
    assert not parts & {"pyproject.toml", "Makefile", ".gitignore", "cli.py"}
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")]


def test_the_manifest_names_the_archive_and_its_sha256(built: tuple[Path, Path]) -> None:
    zip_path, manifest_path = built
    manifest = json.loads(manifest_path.read_text())
    [release] = manifest["extensions"]
    config = json.loads(zipfile.ZipFile(zip_path).read("nostrbazaar/config.json"))
    assert release["id"] == "nostrbazaar"
    assert release["version"] == config["version"]
    assert release["min_lnbits_version"] == config["min_lnbits_version"]
    assert release["archive"] == f"http://127.0.0.1:9/shop/{zip_path.name}"
    assert release["hash"] == hashlib.sha256(zip_path.read_bytes()).hexdigest()


def test_config_json_carries_what_lnbits_reads(built: tuple[Path, Path]) -> None:
    config = json.loads(zipfile.ZipFile(built[0]).read("nostrbazaar/config.json"))
    for key in ("name", "short_description", "tile", "version", "min_lnbits_version"):
        assert config[key], key
    assert config["tile"].startswith("/nostrbazaar/static/")
    tile = config["tile"].removeprefix("/nostrbazaar/")
    assert f"nostrbazaar/{tile}" in zipfile.ZipFile(built[0]).namelist()


def test_the_same_tree_gives_the_same_bytes(tmp_path: Path) -> None:
    script = _package_script()
    first, _ = script.build(tmp_path / "a", "http://x")
    second, _ = script.build(tmp_path / "b", "http://x")
    assert first.read_bytes() == second.read_bytes()


def test_a_version_that_differs_from_the_package_stops_the_build(tmp_path: Path) -> None:
    script = _package_script()
    (tmp_path / "__init__.py").write_text('__version__ = "9.9.9"\n')
    (tmp_path / "config.json").write_text((ROOT / "config.json").read_text())
    with pytest.raises(SystemExit, match=r"9\.9\.9"):
        script.read_config(tmp_path)


def test_the_script_runs_on_the_standard_library_alone() -> None:
    found = subprocess.run(
        [sys.executable, "-I", "-S", str(ROOT / "scripts/package.py"), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert found.returncode == 0, found.stderr
