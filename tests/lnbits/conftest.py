"""Fixtures for the LNbits tests: tests/support importable, the extension packaged once."""

from __future__ import annotations

import importlib.util
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

_TESTS = Path(__file__).resolve().parent.parent
if str(_TESTS) not in sys.path:
    sys.path.insert(0, str(_TESTS))
ROOT = _TESTS.parent


def package_script() -> ModuleType:
    """scripts/package.py, loaded as a module (it is a script, not part of the package)."""
    spec = importlib.util.spec_from_file_location("package_script", ROOT / "scripts/package.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def extracted_extension(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The packaged extension unzipped: a folder holding `nostrbazaar/` (for PYTHONPATH)."""
    out = tmp_path_factory.mktemp("package")
    zip_path, _ = package_script().build(out / "dist", "http://127.0.0.1:9")
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(out / "ext")
    return out / "ext"
