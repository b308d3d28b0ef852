"""The architectural rules: the core is pure, the CRM adapters do not know each other, nothing shipped
imports the tests, and the bundled sandbox is used only by its own command."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ("core", "adapters", "webhook_app", "sandbox")  # the packages pyproject.toml installs


def imported_modules(package: Path) -> dict[Path, set[str]]:
    """Top-level module names imported by every .py file under a directory (relative imports resolved)."""
    result: dict[Path, set[str]] = {}
    for path in package.rglob("*.py"):
        names: set[str] = set()
        parts = path.relative_to(ROOT).with_suffix("").parts
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = parts[: len(parts) - node.level]
                    names.add(".".join((*base, node.module or "")).strip("."))
                else:
                    names.add(node.module or "")
        result[path] = names
    return result


def test_core_imports_only_the_standard_library_and_itself():
    offenders = []
    for path, names in imported_modules(ROOT / "core").items():
        for name in names:
            top = name.split(".")[0]
            if top != "core" and top not in sys.stdlib_module_names and top != "__future__":
                offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offenders == []


def test_amocrm_and_bitrix24_adapters_do_not_import_each_other():
    pairs = [("amocrm", "bitrix24"), ("bitrix24", "amocrm")]
    offenders = []
    for mine, other in pairs:
        for path, names in imported_modules(ROOT / "adapters" / mine).items():
            offenders += [f"{path.relative_to(ROOT)} imports {n}" for n in names if f"adapters.{other}" in n]
    assert offenders == []


def imports_of(packages: tuple[str, ...], top: set[str], skip: frozenset[Path] = frozenset()) -> list[str]:
    """`FILE imports NAME` for every import of a top-level package in `top` under `packages`."""
    found = []
    for package in packages:
        for path, names in imported_modules(ROOT / package).items():
            if path not in skip:
                found += [f"{path.relative_to(ROOT)} imports {n}" for n in names if n.split(".")[0] in top]
    return found


def test_nothing_shipped_imports_the_tests():
    assert imports_of(SHIPPED, {"tests"}) == []


def test_the_sandbox_stands_alone_and_only_the_sandbox_command_uses_it():
    service = ("core", "adapters", "webhook_app")
    assert imports_of(("sandbox",), set(service)) == []
    command = frozenset(
        {
            ROOT / "webhook_app" / "cli" / "sandbox.py",
            ROOT / "webhook_app" / "cli" / "sandbox_crm.py",
            ROOT / "webhook_app" / "config" / "sandbox.py",
        }
    )
    assert imports_of(service, {"sandbox"}, skip=command) == []


def test_the_architecture_check_catches_a_forbidden_import(tmp_path, monkeypatch):
    # Guard against a vacuous check: a planted `import httpx` under a fake core must be reported.
    fake = tmp_path / "core"
    fake.mkdir()
    (fake / "bad.py").write_text("import httpx\nfrom . import model\n", encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    names = imported_modules(fake)[fake / "bad.py"]
    assert "httpx" in names and "core" in names


def module_graph(root: Path, packages: tuple[str, ...]) -> dict[str, set[str]]:
    """Every shipped module and the shipped modules it imports (TYPE_CHECKING imports included).

    A package's `__init__` is left out as a target: importing `core.strategies` to reach a name it
    re-exports is not a dependency on every module it re-exports from.
    """
    files = {}
    for package in packages:
        for path in (root / package).rglob("*.py"):
            parts = path.relative_to(root).with_suffix("").parts
            files[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        base = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                origin = base[: len(base) - node.level + 1] if node.level else []
                module = ".".join([*origin, *([node.module] if node.module else [])])
                found.add(module)
                found.update(f"{module}.{alias.name}" for alias in node.names)
        graph[name] = {m for m in found if m in files and m != name and files[m].name != "__init__.py"}
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    cycles.append(sorted(component))
    return cycles


def test_no_import_cycle_among_shipped_modules():
    assert import_cycles(module_graph(ROOT, SHIPPED)) == []


def test_the_cycle_check_catches_a_planted_cycle(tmp_path):
    # Guard against a vacuous check: a cycle through a type-only import is a cycle too.
    fake = tmp_path / "core"
    fake.mkdir()
    (fake / "__init__.py").write_text("", encoding="utf-8")
    (fake / "model.py").write_text("from core.matcher import RuleMatcher\n", encoding="utf-8")
    (fake / "matcher.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .model import Rule\n", encoding="utf-8"
    )
    (fake / "free.py").write_text("from core import model\n", encoding="utf-8")
    assert import_cycles(module_graph(tmp_path, ("core",))) == [["core.matcher", "core.model"]]


# What only a CRM's own adapter may know: its webhook and API payload shapes.
CRM_PAYLOAD_MARKERS = ("ONCRM", "_embedded", "custom_fields_values", "ASSIGNED_BY_ID", "STAGE_ID", "leads[")


def payload_knowledge(root: Path, packages: tuple[str, ...], allowed: tuple[str, ...]) -> list[str]:
    """`FILE: why` for each module outside `allowed` that imports a CRM adapter or names its payload."""
    found = []
    for package in packages:
        for path, names in imported_modules(root / package).items():
            where = path.relative_to(root).as_posix()
            if where.startswith(allowed):
                continue
            found += [
                f"{where} imports {n}"
                for n in names
                if n.startswith(("adapters.amocrm", "adapters.bitrix24"))
            ]
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    found += [f"{where} names {m!r}" for m in CRM_PAYLOAD_MARKERS if m in node.value]
    return found


def test_nothing_outside_the_crm_adapters_parses_a_crm_payload():
    # formdata.py reads the bracket forms both CRMs post; the sandbox is the CRMs themselves.
    allowed = ("adapters/amocrm/", "adapters/bitrix24/", "adapters/formdata.py", "sandbox/")
    assert payload_knowledge(ROOT, SHIPPED, allowed) == []


def test_the_payload_check_catches_a_view_that_reads_a_crm_form(tmp_path, monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    view = tmp_path / "webhook_app"
    view.mkdir()
    (view / "hooks.py").write_text(
        "from adapters.amocrm.webhook import parse_amocrm_webhook\nKEY = 'leads[add]'\n", encoding="utf-8"
    )
    found = payload_knowledge(tmp_path, ("webhook_app",), ("adapters/amocrm/",))
    assert found == [
        "webhook_app/hooks.py imports adapters.amocrm.webhook",
        "webhook_app/hooks.py names 'leads['",
    ]


# Only adapters/storage/ builds or runs SQL. Elsewhere a module may name the `Connection` and `Engine`
# types (to hand a connection or engine to a storage function) and use adapters.storage.engine
# (`reading`, `make_engine`); no caller needs sqlalchemy.exc's error classes, so none is allowed.
STORAGE = "adapters/storage/"
SQLALCHEMY_TYPES = frozenset({"Connection", "Engine"})
STORAGE_SQL = ("adapters.storage.tables", "adapters.storage.sql")


def sql_outside_storage(root: Path, packages: tuple[str, ...]) -> list[str]:
    """`FILE imports NAME` for each SQL-building import outside adapters/storage/: anything from
    sqlalchemy but the Connection and Engine types, the storage's tables and its SQL helpers."""
    found = []
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            where = path.relative_to(root).as_posix()
            if where.startswith(STORAGE):
                continue
            parts = path.relative_to(root).with_suffix("").parts
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom):
                    base = parts[: len(parts) - node.level] if node.level else ()
                    module = ".".join((*base, node.module or "")).strip(".")
                    names = [f"{module}.{alias.name}" for alias in node.names]
                else:
                    continue
                found += [f"{where} imports {name}" for name in names if _builds_sql(name)]
    return found


def _builds_sql(name: str) -> bool:
    top, _, rest = name.partition(".")
    if top == "sqlalchemy":
        return rest not in SQLALCHEMY_TYPES
    return any(name == m or name.startswith(f"{m}.") for m in STORAGE_SQL)


def test_only_storage_builds_sql():
    assert sql_outside_storage(ROOT, SHIPPED) == []


def test_the_sql_check_catches_a_query_built_outside_storage(tmp_path):
    # Guard against a vacuous check: a planted `from sqlalchemy import select` under a fake
    # webhook_app must be reported, and so must a table, a helper or plain `import sqlalchemy`;
    # the Connection/Engine types pass, and so does anything inside adapters/storage/.
    view = tmp_path / "webhook_app"
    view.mkdir()
    (view / "bad.py").write_text(
        "from sqlalchemy import Engine, select\n"
        "from sqlalchemy import Connection\n"
        "import sqlalchemy\n"
        "from adapters.storage.tables import kv\n"
        "from adapters.storage import sql\n"
        "from adapters.storage.engine import reading\n",
        encoding="utf-8",
    )
    storage = tmp_path / "adapters" / "storage"
    storage.mkdir(parents=True)
    (storage / "fine.py").write_text(
        "from sqlalchemy import select\nfrom .tables import kv\n", encoding="utf-8"
    )
    assert sql_outside_storage(tmp_path, ("webhook_app", "adapters")) == [
        "webhook_app/bad.py imports sqlalchemy.select",
        "webhook_app/bad.py imports sqlalchemy",
        "webhook_app/bad.py imports adapters.storage.tables.kv",
        "webhook_app/bad.py imports adapters.storage.sql",
    ]
