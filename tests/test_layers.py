"""The layers import only downwards: ui -> services -> db/domain, domain -> nothing of ours."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "erpgo_desktop"

FORBIDDEN = {
    "domain": ("erpgo_desktop.services", "erpgo_desktop.db", "erpgo_desktop.ui", "PySide6",
               "sqlalchemy"),
    "services": ("erpgo_desktop.ui", "PySide6"),
    "db": ("erpgo_desktop.services", "erpgo_desktop.ui", "PySide6"),
    "ui": ("erpgo_desktop.db", "sqlalchemy", "psycopg"),
}  # fmt: skip


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports(layer: str) -> None:
    offending = [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in sorted((PACKAGE / layer).rglob("*.py"))
        for name in imports_of(path)
        if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN[layer])
    ]
    assert offending == []


def test_the_check_sees_imports() -> None:
    assert "erpgo_desktop.errors" in imports_of(PACKAGE / "domain" / "validation.py")
