"""Application roles for tests: made with names of their own, dropped at the end."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import URL


def libpq(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class Roles:
    """Application roles made by one test, dropped at its end. Roles belong to the whole
    server, which other test runs share: each name is new."""

    def __init__(self) -> None:
        self._made: list[tuple[str, URL]] = []

    def new(self, owner_url: URL, prefix: str = "erpgo_app") -> str:
        role = f"{prefix}_{uuid.uuid4().hex[:12]}"
        self._made.append((role, owner_url))
        return role

    def drop_all(self) -> None:
        for role, owner_url in self._made:
            with psycopg.connect(libpq(owner_url), autocommit=True) as conn:
                if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
                    # What it owns (a database included) goes to the test server's user;
                    # its grants here and on the database go; then the role.
                    name = sql.Identifier(role)
                    conn.execute(sql.SQL("REASSIGN OWNED BY {} TO CURRENT_USER").format(name))
                    conn.execute(sql.SQL("DROP OWNED BY {}").format(name))
                    conn.execute(sql.SQL("DROP ROLE {}").format(name))


@pytest.fixture
def roles() -> Iterator[Roles]:
    made = Roles()
    yield made
    made.drop_all()
