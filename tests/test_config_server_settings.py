"""The server chosen in the settings file: host, port and database, never who connects."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from erpgo_desktop.config import (
    CONFIG_DIR_ENV,
    DATA_DIR_ENV,
    DATABASE_URL_ENV,
    AppPaths,
    ServerSettings,
    UrlSource,
    credentials_in_settings_file,
    read_company,
    read_server_settings,
    resolve_database,
    unused_credentials,
    write_server_settings,
)
from erpgo_desktop.errors import ConfigurationError, ValidationError

SERVER = ServerSettings(embedded=False, host="dbserver", port=5433, database="erpgo")
HAND_WRITTEN = """\
# Settings of ERPGo Desktop, kept by hand.
theme = "dark"  # not ours, but kept

[company]
# shown on every printed document
name = "Northwind Trading B.V."
address = ["Keizersgracht 1", "1015 CJ Amsterdam"]
"""


@pytest.fixture
def paths(tmp_path: Path) -> AppPaths:
    return AppPaths.for_user({CONFIG_DIR_ENV: str(tmp_path / "cfg"), DATA_DIR_ENV: str(tmp_path)})


def write_settings(paths: AppPaths, content: str) -> None:
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    paths.settings_file.write_text(content, encoding="utf-8")


def test_no_settings_file_means_the_embedded_database(paths: AppPaths) -> None:
    assert read_server_settings(paths) == ServerSettings(embedded=True)
    assert credentials_in_settings_file(paths) is None


def test_a_server_round_trips_and_everything_else_in_the_file_stays(paths: AppPaths) -> None:
    write_settings(paths, HAND_WRITTEN)

    write_server_settings(paths, SERVER)

    assert read_server_settings(paths) == SERVER
    text = paths.settings_file.read_text(encoding="utf-8")
    assert 'database_url = "postgresql://dbserver:5433/erpgo"' in text
    for line in HAND_WRITTEN.splitlines():
        assert line in text  # comments, other keys and the [company] table, as written
    assert read_company(paths).name == "Northwind Trading B.V."
    assert read_company(paths).address_lines == ("Keizersgracht 1", "1015 CJ Amsterdam")


def test_writing_a_new_file_creates_its_folder(paths: AppPaths) -> None:
    write_server_settings(paths, SERVER)
    assert read_server_settings(paths) == SERVER
    assert [p.name for p in paths.config_dir.iterdir()] == ["settings.toml"]  # no temp left


def test_a_user_and_password_in_the_file_are_named_without_the_password_and_left_out(
    paths: AppPaths,
) -> None:
    write_settings(paths, 'database_url = "postgresql://erpgo_app:old-Pw9@dbserver:5433/erpgo"\n')

    assert read_server_settings(paths) == SERVER  # the settings themselves name nobody
    assert credentials_in_settings_file(paths) == "user erpgo_app and a password"

    write_server_settings(paths, read_server_settings(paths))

    content = paths.settings_file.read_text(encoding="utf-8")
    assert "old-Pw9" not in content and "erpgo_app" not in content
    assert content == 'database_url = "postgresql://dbserver:5433/erpgo"\n'
    assert credentials_in_settings_file(paths) is None


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("postgresql://dbserver/erpgo", None),
        ("postgresql://clerk@dbserver/erpgo", "user clerk"),
        ("postgresql://:s3cret@dbserver/erpgo", "a password"),
        ("postgresql://dbserver/erpgo?user=clerk&password=s3cret", "user clerk and a password"),
    ],
)
def test_what_a_url_says_about_who_connects_is_named_never_its_password(
    url: str, named: str | None
) -> None:
    assert unused_credentials(url) == named
    assert ServerSettings.from_url(url) == ServerSettings(False, "dbserver", 5432, "erpgo")


def test_urls_given_to_the_program_keep_their_user_for_the_administrators_commands(
    paths: AppPaths,
) -> None:
    # `migrate` and `setup-roles` connect as the URL's user; signing in ignores it.
    write_settings(paths, 'database_url = "postgresql://owner:pw@dbserver/erpgo"\n')
    given = "postgresql://postgres:typed@dbserver/erpgo"

    from_file = resolve_database(None, paths, {}).url
    from_env = resolve_database(None, paths, {DATABASE_URL_ENV: given}).url
    from_cli = resolve_database(given, paths, {}).url

    assert from_file is not None and (from_file.username, from_file.password) == ("owner", "pw")
    assert from_env is not None and (from_env.username, from_env.password) == ("postgres", "typed")
    assert from_cli is not None and from_cli.username == "postgres"
    location = resolve_database(given, paths, {})
    assert location.source is UrlSource.COMMAND_LINE
    assert "typed" not in location.describe(paths)


def test_choosing_the_embedded_database_removes_the_url_and_keeps_the_rest(
    paths: AppPaths,
) -> None:
    write_settings(paths, HAND_WRITTEN)
    write_server_settings(paths, SERVER)

    write_server_settings(paths, ServerSettings(embedded=True))

    assert read_server_settings(paths).embedded
    assert "database_url" not in paths.settings_file.read_text(encoding="utf-8")
    assert paths.settings_file.read_text(encoding="utf-8").strip() == HAND_WRITTEN.strip()
    assert resolve_database(None, paths, {}).is_embedded


def test_connection_options_and_unix_sockets_survive(paths: AppPaths) -> None:
    write_settings(
        paths, 'database_url = "postgresql://clerk@/erpgo?host=/run/pg&sslmode=require"\n'
    )
    settings = read_server_settings(paths)
    assert (settings.host, settings.port, settings.database, settings.options) == (
        "/run/pg",
        5432,
        "erpgo",
        (("sslmode", "require"),),
    )

    write_server_settings(paths, settings)

    assert read_server_settings(paths) == settings
    assert "clerk" not in paths.settings_file.read_text(encoding="utf-8")
    url = settings.url()
    assert url.username is None and url.password is None
    assert dict(url.query) == {"host": "/run/pg", "port": "5432", "sslmode": "require"}


def test_a_server_choice_is_checked_field_by_field(paths: AppPaths) -> None:
    for changed, field in (
        ({"host": "  "}, "host"),
        ({"host": "db server"}, "host"),
        ({"port": 0}, "port"),
        ({"database": ""}, "database"),
    ):
        bad = ServerSettings(**{**SERVER.__dict__, **changed})
        with pytest.raises(ValidationError) as caught:
            write_server_settings(paths, bad)
        assert caught.value.field == field
    assert not paths.settings_file.exists()


def test_a_broken_settings_file_is_not_overwritten(paths: AppPaths) -> None:
    write_settings(paths, "database_url = \n")
    with pytest.raises(ConfigurationError, match="settings file"):
        write_server_settings(paths, SERVER)
    assert paths.settings_file.read_text(encoding="utf-8") == "database_url = \n"


def test_the_file_is_replaced_not_rewritten_in_place(paths: AppPaths) -> None:
    write_settings(paths, HAND_WRITTEN)
    before = os.stat(paths.settings_file).st_ino
    write_server_settings(paths, SERVER)
    # A new inode: the old content stayed whole until the new file took its name.
    assert os.stat(paths.settings_file).st_ino != before


def test_the_program_no_longer_touches_a_keyring() -> None:
    """Workstations keep no password, so nothing of the program loads `keyring` (still
    installed in older environments) or asks the desktop's secret store."""
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, erpgo_desktop.cli, erpgo_desktop.app, "
            "erpgo_desktop.ui.connection_settings; print('keyring' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert loaded.stdout.strip() == "False"
