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
        {ROOT / "webhook_app" / "cli" / "sandbox.py", ROOT / "webhook_app" / "config" / "sandbox.py"}
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
