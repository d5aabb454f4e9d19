"""The administrator's commands, run as a person would run them."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL

from erpgo_desktop import cli
from erpgo_desktop.config import CONFIG_DIR_ENV, DATA_DIR_ENV, DATABASE_URL_ENV
from erpgo_desktop.db import migrate
from erpgo_desktop.db.engine import make_engine, make_session_factory
from erpgo_desktop.services.auth import AuthService


def url_text(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def run(*args: str) -> int:
    return cli.main(list(args))


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Never read the developer's own settings file or environment.
    monkeypatch.setenv(CONFIG_DIR_ENV, str(tmp_path / "config"))
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "data"))
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    commands = ("migrate", "create-user", "demo-data", "doctor", "setup-roles", "backup", "restore")
    for command in commands:
        with pytest.raises(SystemExit) as exited:
            run(command, "--help")
        assert exited.value.code == 0
        assert "usage: erpgo-desktop" in capsys.readouterr().out


def test_bad_arguments_exit_with_status_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        run("create-user", "--username", "x")
    assert exited.value.code == 2
    assert "--email" in capsys.readouterr().err


def test_migrate_an_empty_database(
    empty_database_url: URL, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("--database-url", url_text(empty_database_url), "migrate") == 0
    assert f"to {migrate.head_revision()}" in capsys.readouterr().out
    assert migrate.is_up_to_date(make_engine(empty_database_url))
    assert run("--database-url", url_text(empty_database_url), "migrate") == 0
    assert "already at revision" in capsys.readouterr().out


def test_create_user_from_stdin(
    database_url: URL, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("a long secret\n"))
    status = run(
        "--database-url", url_text(database_url), "create-user",
        "--username", "clerk", "--email", "clerk@example.com", "--role", "warehouse_clerk",
        "--password-stdin",
    )  # fmt: skip
    assert status == 0
    assert "Created user clerk with role warehouse_clerk" in capsys.readouterr().out
    engine = make_engine(database_url)
    try:
        assert AuthService(make_session_factory(engine)).login("clerk", "a long secret").roles == (
            "warehouse_clerk",
        )
    finally:
        engine.dispose()


def test_create_user_refuses_an_unknown_role(
    database_url: URL, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("a long secret\n"))
    status = run(
        "--database-url", url_text(database_url), "create-user",
        "--username", "clerk", "--email", "clerk@example.com", "--role", "janitor",
        "--password-stdin",
    )  # fmt: skip
    assert status == 1
    assert "no role 'janitor'" in capsys.readouterr().err


def test_create_user_needs_a_migrated_database(
    empty_database_url: URL, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("a long secret\n"))
    status = run(
        "--database-url", url_text(empty_database_url), "create-user",
        "--username", "clerk", "--email", "c@example.com", "--role", "sales", "--password-stdin",
    )  # fmt: skip
    assert status == 1
    assert "erpgo-desktop migrate" in capsys.readouterr().err


def test_demo_data_then_doctor(database_url: URL, capsys: pytest.CaptureFixture[str]) -> None:
    status = run(
        "--database-url", url_text(database_url), "demo-data",
        "--products", "300", "--customers", "40", "--orders", "200", "--warehouses", "2",
    )  # fmt: skip
    assert status == 0
    assert run("--database-url", url_text(database_url), "doctor") == 0
    out = capsys.readouterr().out
    assert "PostgreSQL" in out and "up to date" in out
    doctor_rows = out.split("Rows:")[1].splitlines()
    assert ["products", "300"] in [line.split() for line in doctor_rows]
    assert "every stock ledger equals its stock on hand" in out


def test_doctor_reports_a_ledger_that_does_not_add_up(
    database_url: URL, capsys: pytest.CaptureFixture[str]
) -> None:
    run("--database-url", url_text(database_url), "demo-data", "--products", "50",
        "--customers", "5", "--orders", "5", "--warehouses", "1")  # fmt: skip
    with make_engine(database_url).begin() as connection:
        connection.execute(
            text("UPDATE product_inventory SET quantity_available = quantity_available + 1 "
                 "WHERE id = (SELECT id FROM product_inventory LIMIT 1)")
        )  # fmt: skip
    assert run("--database-url", url_text(database_url), "doctor") == cli.EXIT_PROBLEMS_FOUND
    assert "1 product/warehouse stock levels differ" in capsys.readouterr().out


def test_doctor_never_prints_the_password(
    database_url: URL, capsys: pytest.CaptureFixture[str]
) -> None:
    with_password = database_url.set(password="hunter22")
    # The test servers trust local connections, so the made-up password is ignored by them.
    run("--database-url", url_text(with_password), "doctor")
    captured = capsys.readouterr()
    assert "hunter22" not in captured.out + captured.err


@pytest.mark.skipif(
    bool(os.environ.get("ERPGO_TEST_DATABASE_URL")), reason="exercises the embedded server"
)
def test_embedded_default_is_created_then_reused(tmp_path: Path) -> None:
    env = {
        **os.environ,
        CONFIG_DIR_ENV: str(tmp_path / "config"),
        DATA_DIR_ENV: str(tmp_path / "data"),
    }
    env.pop(DATABASE_URL_ENV, None)
    command = [sys.executable, "-m", "erpgo_desktop"]
    first = subprocess.run([*command, "migrate"], env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    assert "embedded PostgreSQL" in first.stdout
    pgdata = tmp_path / "data" / "pgdata"
    assert (pgdata / "PG_VERSION").exists()
    # The last process using the server stopped it on exit.
    assert not (pgdata / "postmaster.pid").exists()
    # A user of the server that was killed stays on its list of users; it must not keep the
    # server running after the last real user exits.
    departed = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True)  # fmt: skip
    (pgdata / ".handle_pids.json").write_text(f"[{int(departed.stdout)}]")
    second = subprocess.run([*command, "doctor"], env=env, capture_output=True, text=True)
    assert second.returncode == 0, second.stderr
    assert "up to date" in second.stdout
    assert not (pgdata / "postmaster.pid").exists()
