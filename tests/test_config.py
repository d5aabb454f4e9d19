"""Where the database URL comes from, and that passwords never show."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from erpgo_desktop.config import (
    CONFIG_DIR_ENV,
    DATA_DIR_ENV,
    DATABASE_URL_ENV,
    AppPaths,
    UrlSource,
    resolve_database,
    safe_url,
)
from erpgo_desktop.errors import ConfigurationError


@pytest.fixture
def paths(tmp_path: Path) -> AppPaths:
    return AppPaths.for_user({CONFIG_DIR_ENV: str(tmp_path / "cfg"), DATA_DIR_ENV: str(tmp_path)})


def write_settings(paths: AppPaths, content: str) -> None:
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    paths.settings_file.write_text(content, encoding="utf-8")


def test_command_line_wins_over_everything(paths: AppPaths) -> None:
    write_settings(paths, 'database_url = "postgresql://settings@host/db"\n')
    env = {DATABASE_URL_ENV: "postgresql://env@host/db"}
    location = resolve_database("postgresql://cli@host/db", paths, env)
    assert location.source is UrlSource.COMMAND_LINE
    assert location.url is not None and location.url.username == "cli"


def test_environment_wins_over_settings_file(paths: AppPaths) -> None:
    write_settings(paths, 'database_url = "postgresql://settings@host/db"\n')
    location = resolve_database(None, paths, {DATABASE_URL_ENV: "postgresql://env@host/db"})
    assert location.source is UrlSource.ENVIRONMENT
    assert location.url is not None and location.url.username == "env"


def test_settings_file_wins_over_embedded(paths: AppPaths) -> None:
    write_settings(paths, 'database_url = "postgresql://settings@host/db"\n')
    location = resolve_database(None, paths, {})
    assert location.source is UrlSource.SETTINGS_FILE
    assert location.url is not None and location.url.username == "settings"


def test_embedded_is_the_default(paths: AppPaths) -> None:
    location = resolve_database(None, paths, {})
    assert location.is_embedded and location.url is None
    assert str(paths.embedded_data_dir) in location.describe(paths)


def test_urls_use_the_psycopg_driver(paths: AppPaths) -> None:
    location = resolve_database("postgresql://u@h/db", paths, {})
    assert location.url is not None and location.url.drivername == "postgresql+psycopg"


def test_a_password_is_never_shown(paths: AppPaths) -> None:
    location = resolve_database("postgresql://clerk:s3cret@server/erp", paths, {})
    assert "s3cret" not in location.describe(paths)
    assert "s3cret" not in safe_url("postgresql://clerk:s3cret@server/erp")


def test_a_database_other_than_postgresql_is_refused(paths: AppPaths) -> None:
    with pytest.raises(ConfigurationError, match="PostgreSQL"):
        resolve_database("sqlite:///erp.db", paths, {})


def test_a_broken_settings_file_is_a_clear_error(paths: AppPaths) -> None:
    write_settings(paths, "database_url = \n")
    with pytest.raises(ConfigurationError, match="settings file"):
        resolve_database(None, paths, {})


def test_an_unparseable_url_does_not_echo_its_password(paths: AppPaths) -> None:
    with pytest.raises(ConfigurationError) as caught:
        resolve_database("not a url :pw@", paths, {})
    assert ":pw@" not in caught.value.message


def test_a_urls_user_and_password_are_not_used_to_sign_in_and_the_log_says_so(
    paths: AppPaths, caplog: pytest.LogCaptureFixture
) -> None:
    """People sign in as themselves: the app is handed the server and database only."""
    from erpgo_desktop.services.setup import prepare_database

    location = resolve_database("postgresql://erpgo_app:s3cret-Pw@dbserver:5433/erpgo", paths, {})
    with caplog.at_level(logging.INFO, logger="erpgo_desktop.services.setup"):
        server, ready = prepare_database(
            location, paths, demo=False, progress=lambda *_progress: None
        )

    assert (server.username, server.password) == (None, None)
    assert (server.host, server.port, server.database) == ("dbserver", 5433, "erpgo")
    said = caplog.text
    assert "user erpgo_app and a password" in said and "not used to sign in" in said
    assert "s3cret-Pw" not in said and "s3cret-Pw" not in ready.location_description


def test_a_url_naming_nobody_logs_nothing_about_it(
    paths: AppPaths, caplog: pytest.LogCaptureFixture
) -> None:
    from erpgo_desktop.services.setup import prepare_database

    location = resolve_database("postgresql://dbserver/erpgo", paths, {})
    with caplog.at_level(logging.INFO, logger="erpgo_desktop.services.setup"):
        prepare_database(location, paths, demo=False, progress=lambda *_progress: None)
    assert "not used to sign in" not in caplog.text
