"""The folder tree is the architecture: import rules read from the source with `ast`.

Each package may import only the packages listed for it in `ALLOWED` (its own
modules always), the project's modules must form no import circle, and the
root holds only the extension's files and the standalone entry points.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SKIPPED_DIRS = {"tests", "bench", "scripts", "static", "templates", "docs", "data"}

# Root modules every layer may read: settings, the API's data shapes (they
# import nothing of ours but `nostr`) and the country table they validate with,
# and the migrations the engine runs.
SHARED = {"config", "models", "catalogue_models", "countries", "compat"}
ALLOWED: dict[str, set[str]] = {
    "orders": set(),
    "nostr": set(),
    "storage": set(),
    "market": {"orders"},
    "wallets": {"nostr", "config"},
    "crud": {"storage", "orders", "nostr", "models", "catalogue_models"},
    "services": {"orders", "market", "crud", "storage", "wallets", "nostr", *SHARED},
    "engine": {"services", "orders", "market", "crud", "storage", "wallets", "nostr"}
    | SHARED
    | {"migrations"},
    "api": {"engine", "services", "orders", "market", "crud", "storage", "wallets", "nostr"}
    | SHARED,
    "models": {"nostr", "compat"},
    "catalogue_models": {"models", "nostr", "countries", "compat"},
    "countries": set(),
    "compat": set(),
    "config": set(),
    "migrations": {"storage", "orders"},
    # the LNbits host: like the standalone entry points, it wires every layer together
    "extension": {"api", "engine", "services", "orders", "market", "crud", "storage", "wallets"}
    | {"nostr"}
    | SHARED
    | {"views", "views_api"},
}
ENTRY_POINTS = {"", "app", "cli", "views", "views_api"}  # may import anything
ROOT_MODULES_MAX = 14


def project_files(root: Path) -> list[Path]:
    return sorted(
        path
        for path in root.rglob("*.py")
        if not ({".venv", ".cache", "node_modules"} & set(path.parts))
        and path.relative_to(root).parts[0] not in SKIPPED_DIRS
    )


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path, root: Path, known: set[str]) -> set[str]:
    """The project modules `path` imports (relative imports, and `nostrbazaar.*`)."""
    name = module_name(path, root)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = _import_base(node, package)
            if base is None:
                continue
            for alias in node.names:
                full = f"{base}.{alias.name}" if base else alias.name
                found.add(full if full in known else base)
        elif isinstance(node, ast.Import):
            found |= {a.name[12:] for a in node.names if a.name.startswith("nostrbazaar.")}
    return {module for module in found if module in known and module != name}


def _import_base(node: ast.ImportFrom, package: list[str]) -> str | None:
    if node.level == 0:
        module = node.module or ""
        if module != "nostrbazaar" and not module.startswith("nostrbazaar."):
            return None
        return module[len("nostrbazaar.") :] if "." in module else ""
    anchor = package[: len(package) - (node.level - 1)]
    return ".".join([*anchor, *([node.module] if node.module else [])])


def import_graph(root: Path) -> dict[str, set[str]]:
    files = project_files(root)
    known = {module_name(path, root) for path in files}
    return {module_name(path, root): imported_modules(path, root, known) for path in files}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle as a list of modules (first == last), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def layer_of(module: str) -> str:
    return module.split(".")[0]


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """Every import that breaks `ALLOWED`, as `importer -> imported`."""
    broken = []
    for module, imports in sorted(graph.items()):
        layer = layer_of(module)
        if module in ENTRY_POINTS:
            continue
        allowed = ALLOWED.get(layer)
        if allowed is None:
            broken.append(f"{module}: a root module that is neither shared nor an entry point")
            continue
        for imported in sorted(imports):
            if layer_of(imported) not in allowed | {layer}:
                broken.append(f"{module} -> {imported}")
    return broken


def test_the_project_has_no_import_circle() -> None:
    assert find_cycle(import_graph(ROOT)) is None


def test_every_package_imports_only_the_layers_below_it() -> None:
    assert upward_imports(import_graph(ROOT)) == []


def test_the_root_holds_at_most_fourteen_modules() -> None:
    root_modules = sorted(path.name for path in ROOT.glob("*.py"))
    assert len(root_modules) <= ROOT_MODULES_MAX, root_modules


@pytest.mark.parametrize("package", ["orders", "nostr"])
def test_the_domain_and_protocol_packages_import_nothing_else_of_ours(package: str) -> None:
    graph = import_graph(ROOT)
    outside = {
        f"{module} -> {imported}"
        for module, imports in graph.items()
        if layer_of(module) == package
        for imported in imports
        if layer_of(imported) != package
    }
    assert outside == set()


# The checks themselves, on a small tree written for the purpose.


def write_tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_a_circle_between_two_modules_is_found(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "orders/__init__.py": "",
            "orders/a.py": "from .b import x\n",
            "orders/b.py": "from . import a\nx = 1\n",
        },
    )
    assert find_cycle(import_graph(tmp_path)) == ["orders.a", "orders.b", "orders.a"]


def test_an_import_from_the_domain_into_the_engine_is_flagged(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "orders/__init__.py": "",
            "orders/machine.py": "from ..engine.runtime import Runtime\n",
            "engine/__init__.py": "",
            "engine/runtime.py": "from nostrbazaar.orders.machine import decide\n",
        },
    )
    graph = import_graph(tmp_path)
    assert upward_imports(graph) == ["orders.machine -> engine.runtime"]
    assert find_cycle(graph) == ["engine.runtime", "orders.machine", "engine.runtime"]


def test_an_import_inside_a_function_or_type_check_block_counts(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "nostr/__init__.py": "",
            "nostr/event.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from ..crud import inbox\n"
                "def f():\n    from ..services.deps import Deps\n"
            ),
            "crud/__init__.py": "",
            "crud/inbox.py": "",
            "services/__init__.py": "",
            "services/deps.py": "",
        },
    )
    assert upward_imports(import_graph(tmp_path)) == [
        "nostr.event -> crud.inbox",
        "nostr.event -> services.deps",
    ]
