"""`erpgo-desktop backup` and `restore`, run as an administrator would run them."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from erpgo_desktop import cli
from erpgo_desktop.commands.backup import add_commands
from erpgo_desktop.config import CONFIG_DIR_ENV, DATA_DIR_ENV, DATABASE_URL_ENV
from tests.services.backup_support import figures, fill


def run(*args: str) -> int:
    return cli.main(list(args))


def url_text(url: URL) -> str:
    return url.render_as_string(hide_password=False)


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CONFIG_DIR_ENV, str(tmp_path / "config"))
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "data"))
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)


@pytest.fixture(autouse=True)
def _with_backup_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    """The commands as cli.main has them, whether cli.py registers them yet or not."""
    build_parser = cli.build_parser

    def with_commands() -> argparse.ArgumentParser:
        parser = build_parser()
        commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        if "backup" not in commands.choices:
            add_commands(commands)
        return parser

    monkeypatch.setattr(cli, "build_parser", with_commands)


def test_both_commands_have_help(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("backup", "restore"):
        with pytest.raises(SystemExit) as exited:
            run(command, "--help")
        assert exited.value.code == 0
        assert f"usage: erpgo-desktop {command}" in capsys.readouterr().out


def test_backup_then_restore_into_an_empty_database(
    database_url: URL,
    empty_database_url: URL,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fill(database_url)
    path = tmp_path / "erpgo.backup"
    assert run("--database-url", url_text(database_url), "backup", str(path)) == cli.EXIT_OK
    captured = capsys.readouterr()
    assert f"to {path}" in captured.out and "tables" in captured.out
    # Progress goes to stderr (a line per stage when stderr is not a terminal).
    assert "Backing up tables" in captured.err

    assert run("--database-url", url_text(empty_database_url), "restore", str(path)) == 0
    captured = capsys.readouterr()
    assert "Every table has the same row count as the backup." in captured.out
    assert "Restoring tables" in captured.err
    assert ["products", "60"] in [line.split() for line in captured.out.splitlines()]
    assert figures(empty_database_url) == figures(database_url)
    assert "migrate" not in captured.out  # the same revision: nothing to do


def test_backup_refuses_to_overwrite_without_the_option(
    database_url: URL, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "old.backup"
    path.write_text("keep me")
    assert run("--database-url", url_text(database_url), "backup", str(path)) == cli.EXIT_ERROR
    assert "exists already" in capsys.readouterr().err
    assert path.read_text() == "keep me"
    status = run("--database-url", url_text(database_url), "backup", "--overwrite", str(path))
    assert status == cli.EXIT_OK
    assert path.read_bytes().startswith(b"PGDMP")


def test_restore_refuses_a_database_with_tables(
    database_url: URL, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "erpgo.backup"
    assert run("--database-url", url_text(database_url), "backup", str(path)) == 0
    capsys.readouterr()
    before = figures(database_url)
    status = run("--database-url", url_text(database_url), "restore", str(path))
    assert status == cli.EXIT_ERROR
    err = capsys.readouterr().err
    assert "is not empty" in err and "nothing was changed" in err
    assert figures(database_url) == before


def test_restore_of_a_missing_or_bad_file_says_so(
    empty_database_url: URL, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = url_text(empty_database_url)
    assert run("--database-url", target, "restore", str(tmp_path / "none.backup")) == 1
    assert "There is no backup file" in capsys.readouterr().err
    bad = tmp_path / "bad.backup"
    bad.write_bytes(b"PGDMP but not really")
    assert run("--database-url", target, "restore", str(bad)) == 1
    assert "not a backup in PostgreSQL's custom format, or it is damaged" in (
        capsys.readouterr().err
    )


def test_the_password_is_never_printed(
    database_url: URL, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The test servers trust local connections, so the made-up password is ignored by them.
    with_password = url_text(database_url.set(password="hunter22"))
    assert run("--database-url", with_password, "backup", str(tmp_path / "a.backup")) == 0
    captured = capsys.readouterr()
    assert "hunter22" not in captured.out + captured.err
