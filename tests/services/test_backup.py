"""Backup and restore: a round trip keeps every row and every sum, a database with tables
is never restored into, a bad file is refused with nothing created, the password stays
off command lines, and progress is reported."""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL, Engine

from erpgo_desktop.db.engine import make_engine
from erpgo_desktop.errors import (
    ConfigurationError,
    PermissionDeniedError,
    ValidationError,
)
from erpgo_desktop.services.backup import (
    BackupError,
    BackupResult,
    BackupService,
    available_tools,
    choose_tool,
)
from tests.services.backup_support import (
    Filled,
    Recorder,
    database_exists,
    drop_database,
    figures,
    fill,
    history_kept,
)

if TYPE_CHECKING:
    from tests.conftest import ThrowawayDatabases


@pytest.fixture(scope="module")
def source(
    pg_server: ThrowawayDatabases, template_database: str
) -> Iterator[tuple[URL, Filled, Engine]]:
    """One database with demo data and some service work, backed up by the tests."""
    url = pg_server.create_database(template=template_database)
    filled = fill(url)
    engine = make_engine(url)
    yield url, filled, engine
    engine.dispose()


@pytest.fixture(scope="module")
def backup(
    source: tuple[URL, Filled, Engine], tmp_path_factory: pytest.TempPathFactory
) -> tuple[BackupResult, Recorder]:
    _, filled, engine = source
    recorder = Recorder()
    path = tmp_path_factory.mktemp("backups") / "erpgo.backup"
    result = BackupService(engine).backup(path, acting=filled.admin, progress=recorder)
    return result, recorder


@pytest.fixture
def new_name(pg_server: ThrowawayDatabases, database_url: URL) -> Iterator[str]:
    """A name for a database the test has the service create; dropped afterwards."""
    name = f"{database_url.database}_restored"
    yield name
    drop_database(pg_server.admin_url, name)


def user_tables(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(
                text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
            ).scalar_one()
        )


def test_backup_writes_every_table_with_progress(
    source: tuple[URL, Filled, Engine], backup: tuple[BackupResult, Recorder]
) -> None:
    result, recorder = backup
    assert result.path.is_file() and result.size_bytes == result.path.stat().st_size
    assert not result.path.with_name(result.path.name + ".partial").exists()
    assert result.tables == user_tables(source[2])
    assert "Backing up tables" in recorder.stages()
    assert recorder.last("Backing up tables") == (result.tables, result.tables)
    dones = [done for stage, done, _ in recorder.calls if stage == "Backing up tables"]
    assert dones == sorted(dones)


def test_round_trip_into_a_new_database_keeps_every_count_and_sum(
    pg_server: ThrowawayDatabases,
    source: tuple[URL, Filled, Engine],
    backup: tuple[BackupResult, Recorder],
    new_name: str,
) -> None:
    url, filled, engine = source
    recorder = Recorder()
    restored = BackupService(engine).restore_into_new_database(
        backup[0].path, new_name, acting=filled.admin, progress=recorder
    )
    assert restored.verified, restored.mismatches
    assert restored.database == new_name
    assert new_name in restored.location
    assert len(restored.tables) == backup[0].tables
    assert restored.rows > 1000
    before, after = figures(url), figures(url.set(database=new_name))
    assert after == before
    assert history_kept(url, url.set(database=new_name))
    assert before["orders"][0] > 0 and before["inventory_transactions"][0] > 0
    with make_engine(url.set(database=new_name)).connect() as connection:
        revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert restored.schema_revision == revision
    stages = recorder.stages()
    for stage in ("Reading the backup", "Restoring tables", "Checking row counts"):
        assert stage in stages
    assert stages.index("Reading the backup") < stages.index("Restoring tables")
    assert recorder.last("Restoring tables") == (backup[0].tables, backup[0].tables)
    assert recorder.last("Rebuilding indexes and constraints")[0] > 0


def test_restore_into_the_service_database_when_it_is_empty(
    source: tuple[URL, Filled, Engine],
    backup: tuple[BackupResult, Recorder],
    empty_database_url: URL,
) -> None:
    target = make_engine(empty_database_url)
    try:
        restored = BackupService(target).restore(backup[0].path, acting=None)
    finally:
        target.dispose()
    assert restored.verified
    assert figures(empty_database_url) == figures(source[0])
    assert history_kept(source[0], empty_database_url)


def test_restore_refuses_a_database_with_tables_and_changes_nothing(
    backup: tuple[BackupResult, Recorder], engine: Engine, database_url: URL
) -> None:
    before = figures(database_url)
    with pytest.raises(ValidationError, match=r"is not empty.*nothing was changed"):
        BackupService(engine).restore(backup[0].path, acting=None)
    assert figures(database_url) == before


def test_a_missing_file_is_refused_clearly(empty_database_url: URL, tmp_path: Path) -> None:
    target = make_engine(empty_database_url)
    try:
        with pytest.raises(ValidationError, match="There is no backup file"):
            BackupService(target).restore(tmp_path / "nowhere.backup", acting=None)
    finally:
        target.dispose()


def test_a_file_that_is_no_backup_is_refused_and_nothing_is_created(
    pg_server: ThrowawayDatabases, engine: Engine, tmp_path: Path, new_name: str
) -> None:
    path = tmp_path / "notes.backup"
    path.write_text("These are not the rows you are looking for.\n")
    with pytest.raises(BackupError, match="not a backup in PostgreSQL's custom format"):
        BackupService(engine).restore_into_new_database(path, new_name, acting=None)
    assert not database_exists(pg_server.admin_url, new_name)


def test_a_truncated_backup_is_refused_before_anything_is_created(
    pg_server: ThrowawayDatabases,
    backup: tuple[BackupResult, Recorder],
    engine: Engine,
    tmp_path: Path,
    new_name: str,
) -> None:
    whole = backup[0].path.read_bytes()
    cut = tmp_path / "cut.backup"
    # The table of contents is whole, the data ends half way: only reading it all tells.
    cut.write_bytes(whole[: len(whole) * 2 // 3])
    with pytest.raises(BackupError, match="damaged"):
        BackupService(engine).restore_into_new_database(cut, new_name, acting=None)
    assert not database_exists(pg_server.admin_url, new_name)


def test_a_backup_of_another_database_is_refused(
    pg_server: ThrowawayDatabases, engine: Engine, tmp_path: Path, new_name: str
) -> None:
    other = pg_server.create_database()
    with make_engine(other).begin() as connection:
        connection.execute(text("CREATE TABLE notes (id int PRIMARY KEY)"))
    path = tmp_path / "other.backup"
    BackupService(make_engine(other)).backup(path, acting=None)
    with pytest.raises(BackupError, match="not of an ERPGo Desktop database"):
        BackupService(engine).restore_into_new_database(path, new_name, acting=None)


def test_cancelling_a_restore_drops_the_new_database(
    pg_server: ThrowawayDatabases,
    backup: tuple[BackupResult, Recorder],
    engine: Engine,
    new_name: str,
) -> None:
    class Cancelled(Exception):
        pass

    def cancel_while_restoring(stage: str, done: int, total: int) -> None:
        if stage == "Restoring tables" and done >= 3:
            raise Cancelled

    with pytest.raises(Cancelled):
        BackupService(engine).restore_into_new_database(
            backup[0].path, new_name, acting=None, progress=cancel_while_restoring
        )
    assert not database_exists(pg_server.admin_url, new_name)


@pytest.mark.parametrize("name", ["", "   ", "has space", "-dash", "x" * 64])
def test_a_bad_database_name_is_refused(
    backup: tuple[BackupResult, Recorder], engine: Engine, name: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        BackupService(engine).restore_into_new_database(backup[0].path, name, acting=None)
    assert refused.value.field == "database"


def test_an_existing_database_is_never_restored_into(
    backup: tuple[BackupResult, Recorder], engine: Engine, database_url: URL
) -> None:
    assert database_url.database is not None
    before = figures(database_url)
    with pytest.raises(ValidationError, match="exists already"):
        BackupService(engine).restore_into_new_database(
            backup[0].path, database_url.database, acting=None
        )
    assert figures(database_url) == before


def test_backup_and_restore_need_users_admin(
    source: tuple[URL, Filled, Engine], backup: tuple[BackupResult, Recorder], tmp_path: Path
) -> None:
    _, filled, engine = source
    with pytest.raises(PermissionDeniedError, match=r"users\.admin"):
        BackupService(engine).backup(tmp_path / "x.backup", acting=filled.sales)
    with pytest.raises(PermissionDeniedError, match=r"users\.admin"):
        BackupService(engine).restore_into_new_database(
            backup[0].path, "never_made", acting=filled.sales
        )
    with pytest.raises(PermissionDeniedError, match=r"users\.admin"):
        BackupService(engine).restore(backup[0].path, acting=filled.sales)
    assert not (tmp_path / "x.backup").exists()


def test_backup_keeps_an_existing_file_unless_told(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "kept.backup"
    path.write_text("an older backup")
    with pytest.raises(ValidationError, match="exists already"):
        BackupService(engine).backup(path, acting=None)
    assert path.read_text() == "an older backup"
    BackupService(engine).backup(path, acting=None, overwrite=True)
    assert path.read_bytes().startswith(b"PGDMP")


def test_a_cancelled_backup_leaves_no_file(engine: Engine, tmp_path: Path) -> None:
    def cancel(stage: str, done: int, total: int) -> None:
        if stage == "Backing up tables":
            raise KeyboardInterrupt

    path = tmp_path / "cancelled.backup"
    with pytest.raises(KeyboardInterrupt):
        BackupService(engine).backup(path, acting=None, progress=cancel)
    assert list(tmp_path.iterdir()) == []


def test_the_password_goes_by_environment_never_by_command_line(
    database_url: URL,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    started: list[tuple[list[str], dict[str, str]]] = []
    real_popen = subprocess.Popen

    def recording_popen(args: list[str], **kwargs: Any) -> Any:
        started.append((list(args), dict(kwargs.get("env") or {})))
        return real_popen(args, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", recording_popen)
    # The test servers trust local connections: the made-up password is not checked.
    with_password = make_engine(database_url.set(password="hunter22"))
    caplog.set_level(logging.DEBUG)
    try:
        BackupService(with_password).backup(tmp_path / "secret.backup", acting=None)
    finally:
        with_password.dispose()
    assert started and not any("hunter22" in arg for args, _ in started for arg in args)
    dumps = [env for args, env in started if "--format=custom" in args]
    assert [env["PGPASSWORD"] for env in dumps] == ["hunter22"]
    assert "hunter22" not in caplog.text


def test_the_oldest_tool_new_enough_is_chosen_or_a_clear_error(tmp_path: Path) -> None:
    tools = available_tools("pg_dump", None)
    assert tools, "the embedded server's pg_dump at least"
    oldest = min(tool.major for tool in tools)
    assert choose_tool("pg_dump", oldest, None, "test").major == oldest
    newest = max(tool.major for tool in tools)
    with pytest.raises(ConfigurationError, match=rf"PostgreSQL {newest + 1} or newer.*found only"):
        choose_tool("pg_dump", newest + 1, None, "test")
    with pytest.raises(ConfigurationError, match=r"none was found in .*pg_bin_dir"):
        choose_tool("pg_dump", 10, tmp_path, "test")


def test_a_configured_folder_without_tools_is_named_in_the_error(
    engine: Engine, tmp_path: Path
) -> None:
    service = BackupService(engine, pg_bin_dir=tmp_path)
    with pytest.raises(ConfigurationError, match="pg_bin_dir"):
        service.backup(tmp_path / "x.backup", acting=None)


def test_databases_are_described_in_words_without_a_password() -> None:
    from sqlalchemy.engine import make_url

    from erpgo_desktop.services.backup import describe_database

    embedded = make_url("postgresql+psycopg://postgres:secret@/erpgo?host=/home/a/pgdata")
    assert describe_database(embedded) == "database erpgo on the server at /home/a/pgdata"
    shared = make_url("postgresql+psycopg://erp:secret@dbserver/erpgo")
    assert describe_database(shared) == "database erpgo on dbserver:5432"


def test_an_administrator_signed_in_as_themselves_backs_up_everything(
    source: tuple[URL, Filled, Engine], tmp_path: Path
) -> None:
    """From the window, pg_dump runs as the administrator's own login role."""
    from erpgo_desktop.db.engine import make_session_factory
    from erpgo_desktop.services.auth import AuthService, NewUser

    engine = source[2]
    auth = AuthService(make_session_factory(engine))
    auth.create_user(
        NewUser("backer", "backer@example.com", "a long password", "admin", "Backer"),
        acting=None,
    )
    signed_in = auth.sign_in("backer", "a long password")
    try:
        result = BackupService(signed_in.engine).backup(
            tmp_path / "own.backup", acting=signed_in.user
        )
    finally:
        signed_in.engine.dispose()
    assert result.path.stat().st_size > 0
