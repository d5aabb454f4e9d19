"""`erpgo-desktop setup-roles`, run as an administrator would run it."""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import URL

from erpgo_desktop import cli
from erpgo_desktop.commands.privileges import add_commands
from erpgo_desktop.config import CONFIG_DIR_ENV, DATA_DIR_ENV, DATABASE_URL_ENV
from tests.services.privileges_support import Roles, libpq, roles

__all__ = ["roles"]  # the fixture


def run(*args: str) -> int:
    return cli.main(list(args))


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CONFIG_DIR_ENV, str(tmp_path / "config"))
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "data"))
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)


@pytest.fixture(autouse=True)
def _with_setup_roles(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command as cli.main has it, whether cli.py registers it yet or not."""
    build_parser = cli.build_parser

    def with_command() -> argparse.ArgumentParser:
        parser = build_parser()
        commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        if "setup-roles" not in commands.choices:
            add_commands(commands)
        return parser

    monkeypatch.setattr(cli, "build_parser", with_command)


def url_text(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def test_setup_roles_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        run("setup-roles", "--help")
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "usage: erpgo-desktop setup-roles" in out and "--password-stdin" in out


def test_setup_roles_twice_prints_the_grants_and_the_workstation_url(
    database_url: URL,
    roles: Roles,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    role = roles.new(database_url)
    owner = url_text(database_url)
    for state in ("created", "updated"):
        monkeypatch.setattr(sys, "stdin", io.StringIO("a long secret\n"))
        assert run("--database-url", owner, "setup-roles", "--role", role, "--password-stdin") == 0
        captured = capsys.readouterr()
        assert f"Role {role} {state} (password set)" in captured.out
        assert "SELECT, INSERT, UPDATE, DELETE" in captured.out
        assert "owner only: dashboard_rebuild(), stock_flags_rebuild()" in captured.out
        workstation = database_url.set(drivername="postgresql", username=role, password=None)
        assert f"  {workstation.render_as_string()}\n" in captured.out
        assert "a long secret" not in captured.out + captured.err
        assert captured.err == ""
    with psycopg.connect(libpq(database_url)) as conn:
        assert conn.execute(
            "SELECT rolcanlogin, rolinherit, rolpassword IS NOT NULL FROM pg_authid "
            "WHERE rolname = %s",
            (role,),
        ).fetchone() == (True, False, True)


def test_no_password_keeps_the_roles_own(
    database_url: URL, roles: Roles, capsys: pytest.CaptureFixture[str]
) -> None:
    role = roles.new(database_url)
    assert run("--database-url", url_text(database_url), "setup-roles", "--role", role,
               "--no-password") == 0  # fmt: skip
    assert f"Role {role} created (password unchanged)" in capsys.readouterr().out


def test_an_empty_password_changes_nothing(
    database_url: URL,
    roles: Roles,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    role = roles.new(database_url)
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n"))
    status = run(
        "--database-url", url_text(database_url), "setup-roles", "--role", role, "--password-stdin"
    )
    assert status == cli.EXIT_ERROR
    assert "password is empty" in capsys.readouterr().err
    with psycopg.connect(libpq(database_url)) as conn:
        assert conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone() is None


def test_a_role_name_needing_quotes_is_a_bad_argument(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        run("setup-roles", "--role", "Erp-App", "--no-password")
    assert exited.value.code == 2
    assert "lowercase letters" in capsys.readouterr().err


def test_setup_roles_before_migrate_says_what_to_do(
    empty_database_url: URL, capsys: pytest.CaptureFixture[str]
) -> None:
    status = run("--database-url", url_text(empty_database_url), "setup-roles", "--no-password")
    assert status == cli.EXIT_ERROR
    assert "run `erpgo-desktop migrate` as its owner first" in capsys.readouterr().err
