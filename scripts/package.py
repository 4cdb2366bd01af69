"""Build the LNbits extension archive and the manifest an LNbits admin installs it from.

    python scripts/package.py [--out dist] [--base-url http://127.0.0.1:8765]

writes `dist/nostrbazaar-<version>.zip`, whose single top folder `nostrbazaar/` holds
the extension (config.json, the root modules, the packages, static/ and templates/),
and `dist/manifest.json`: one `extensions` entry whose `archive` is `<base-url>/<zip>`
and whose `hash` is the zip's sha256, which LNbits checks before installing.

The zip is reproducible: entries sorted, every date fixed, the same modes, so the same
tree always gives the same bytes (and the same hash). Tests, benchmarks, scripts,
docs and development files stay out. Standard library only: it runs before any install.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXT_ID = "nostrbazaar"
# What the extension is made of; everything else in the checkout stays out.
PACKAGES = (
    "api",
    "crud",
    "engine",
    "extension",
    "market",
    "nostr",
    "orders",
    "services",
    "storage",
    "wallets",
)
ASSET_DIRS = ("static", "templates")
ROOT_FILES = ("config.json", "README.md")
SKIPPED_ROOT_MODULES = {"cli.py"}  # the standalone command line: LNbits has its own
SKIPPED_PARTS = {"__pycache__", ".mypy_cache", ".ruff_cache", "node_modules"}
SKIPPED_SUFFIXES = {".pyc", ".pyo"}
FIXED_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip entry can hold
DEFAULT_BASE_URL = "http://127.0.0.1:8765"


def extension_files(root: Path = ROOT) -> list[tuple[Path, str]]:
    """(file on disk, name in the archive) for every file of the extension, sorted."""
    found: list[Path] = [root / name for name in ROOT_FILES]
    found += [p for p in root.glob("*.py") if p.name not in SKIPPED_ROOT_MODULES]
    for package in PACKAGES:
        found += list((root / package).rglob("*.py"))
    for assets in ASSET_DIRS:
        found += [p for p in (root / assets).rglob("*") if p.is_file()]
    kept = [
        p
        for p in found
        if not SKIPPED_PARTS & set(p.relative_to(root).parts) and p.suffix not in SKIPPED_SUFFIXES
    ]
    return sorted((p, f"{EXT_ID}/{p.relative_to(root).as_posix()}") for p in set(kept))


def read_config(root: Path = ROOT) -> dict[str, object]:
    """config.json, checked against the package's `__version__` (one version everywhere)."""
    config: dict[str, object] = json.loads((root / "config.json").read_text())
    version = package_version(root)
    if config.get("version") != version:
        raise SystemExit(f"config.json version {config.get('version')} != __version__ {version}")
    for key in ("name", "short_description", "tile", "version", "min_lnbits_version"):
        if not config.get(key):
            raise SystemExit(f"config.json needs {key!r}")
    return config


def package_version(root: Path = ROOT) -> str:
    """`__version__` as written in the root `__init__.py` (read, not imported)."""
    tree = ast.parse((root / "__init__.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__version__" for t in node.targets
        ):
            return str(ast.literal_eval(node.value))
    raise SystemExit("__init__.py has no __version__")


def write_zip(target: Path, files: list[tuple[Path, str]]) -> None:
    """A zip with fixed dates and modes, entries in sorted order: reproducible bytes."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for source, name in files:
            info = zipfile.ZipInfo(name, FIXED_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, source.read_bytes())


def sha256_of(path: Path) -> str:
    """The file's sha256 in hex, as LNbits computes it to check an archive."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def manifest(config: dict[str, object], archive_url: str, digest: str) -> dict[str, object]:
    """An extension source's manifest with this one release (LNbits' `ExplicitRelease`)."""
    release = {
        "id": EXT_ID,
        "name": config["name"],
        "version": config["version"],
        "short_description": config["short_description"],
        "icon": config["tile"],
        "archive": archive_url,
        "hash": digest,
        "min_lnbits_version": config["min_lnbits_version"],
    }
    if config.get("max_lnbits_version"):
        release["max_lnbits_version"] = config["max_lnbits_version"]
    return {"extensions": [release]}


def build(out: Path, base_url: str = DEFAULT_BASE_URL, root: Path = ROOT) -> tuple[Path, Path]:
    """Write the zip and the manifest into `out`; return their paths."""
    config = read_config(root)
    out.mkdir(parents=True, exist_ok=True)
    zip_path = out / f"{EXT_ID}-{config['version']}.zip"
    write_zip(zip_path, extension_files(root))
    url = f"{base_url.rstrip('/')}/{zip_path.name}"
    manifest_path = out / "manifest.json"
    manifest_path.write_text(json.dumps(manifest(config, url, sha256_of(zip_path)), indent=2))
    return zip_path, manifest_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "dist")
    parser.add_argument(
        "--base-url",
        default=DEFAULT_BASE_URL,
        help="where dist/ is served: the manifest's archive URL starts with it",
    )
    args = parser.parse_args(argv)
    zip_path, manifest_path = build(args.out, args.base_url)
    print(f"{zip_path} ({zip_path.stat().st_size} bytes, sha256 {sha256_of(zip_path)})")
    print(f"{manifest_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
