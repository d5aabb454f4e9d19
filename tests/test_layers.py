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


def test_services_return_plain_rows_not_orm_objects() -> None:
    import inspect
    import typing

    import erpgo_desktop.services as services_package
    from erpgo_desktop.db.models import Base
    from erpgo_desktop.services.base import Service

    def mentions_orm(hint: object) -> bool:
        if isinstance(hint, type) and issubclass(hint, Base):
            return True
        return any(mentions_orm(arg) for arg in typing.get_args(hint))

    for module in sorted((PACKAGE / "services").glob("*.py")):
        __import__(f"erpgo_desktop.services.{module.stem}")
    services = [services_package.auth.AuthService, *Service.__subclasses__()]
    checked = 0
    for service in services:
        for name, method in inspect.getmembers(service, inspect.isfunction):
            if name.startswith("_"):
                continue
            returned = typing.get_type_hints(method).get("return")
            assert not mentions_orm(returned), f"{service.__name__}.{name} returns {returned}"
            checked += 1
    assert checked > 50


def test_our_own_psycopg_connections_never_prepare_on_the_server() -> None:
    """Every connection of ours outside the engine goes through `db.engine.connect_psycopg`,
    which turns off server-side prepared statements (safe behind a transaction pooler)."""
    direct = [
        f"{path.relative_to(PACKAGE)}:{node.lineno}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path != PACKAGE / "db" / "engine.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute)
        and node.attr == "connect"
        and isinstance(node.value, ast.Name)
        and node.value.id == "psycopg"
    ]
    assert direct == []
