"""`make run`'s first install is quiet: the package builds without a warning, with every
static file and template inside (pip -q hides pip's own chatter; setuptools' warnings
are forwarded by pip even then, so they must not arise)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _tracked() -> list[str]:
    """The checkout's tracked files that exist (others' work in progress left aside)."""
    listing = subprocess.run(
        ["git", "ls-files", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return [name for name in listing.split("\0") if name and (ROOT / name).is_file()]


def _tracked_copy(destination: Path) -> Path:
    """A copy of the tracked files, so the build writes nothing into the real checkout."""
    for name in _tracked():
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((ROOT / name).read_bytes())
    return destination


def _own_lines(stderr: str) -> list[str]:
    """What the build printed, without this machine's pip configuration notices."""
    return [
        line
        for line in stderr.splitlines()
        if line.strip() and not line.startswith("WARNING: Location 'file://")
    ]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    work = tmp_path_factory.mktemp("install")
    source = _tracked_copy(work / "src")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(work / "dist"),
         str(source)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    wheel = next((work / "dist").glob("nostrbazaar-*.whl"))
    return wheel, result.stderr


def test_building_the_package_prints_no_warning(built: tuple[Path, str]) -> None:
    _, stderr = built
    assert _own_lines(stderr) == []


def test_the_package_holds_every_static_file_and_template(built: tuple[Path, str]) -> None:
    wheel, _ = built
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        f"nostrbazaar/{name}" for name in _tracked() if name.startswith(("static/", "templates/"))
    }
    assert len(expected) > 50
    assert expected <= names, sorted(expected - names)[:5]
