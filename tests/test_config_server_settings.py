"""The server chosen in the settings file, and its password in the keyring (never the file)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from erpgo_desktop.config import (
    CONFIG_DIR_ENV,
    DATA_DIR_ENV,
    DATABASE_URL_ENV,
    KEYRING_SERVICE,
    AppPaths,
    ServerSettings,
    UrlSource,
    forget_password,
    keyring_available,
    password_in_settings_file,
    read_company,
    read_server_settings,
    resolve_database,
    store_password,
    stored_password,
    write_server_settings,
)
from erpgo_desktop.errors import ConfigurationError, ValidationError
from tests.keyring_support import MemoryKeyring, memory_keyring, no_keyring

SERVER = ServerSettings(embedded=False, host="dbserver", port=5433, database="erpgo", user="clerk")
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


@pytest.fixture
def keys() -> Iterator[MemoryKeyring]:
    with memory_keyring() as backend:
        yield backend


@pytest.fixture
def without_keyring() -> Iterator[None]:
    with no_keyring():
        yield


def write_settings(paths: AppPaths, content: str) -> None:
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    paths.settings_file.write_text(content, encoding="utf-8")


def test_no_settings_file_means_the_embedded_database(paths: AppPaths) -> None:
    assert read_server_settings(paths) == ServerSettings(embedded=True)


def test_a_server_round_trips_and_everything_else_in_the_file_stays(
    paths: AppPaths, keys: MemoryKeyring
) -> None:
    write_settings(paths, HAND_WRITTEN)

    write_server_settings(paths, SERVER)

    assert read_server_settings(paths) == SERVER
    text = paths.settings_file.read_text(encoding="utf-8")
    assert 'database_url = "postgresql://clerk@dbserver:5433/erpgo"' in text
    for line in HAND_WRITTEN.splitlines():
        assert line in text  # comments, other keys and the [company] table, as written
    assert read_company(paths).name == "Northwind Trading B.V."
    assert read_company(paths).address_lines == ("Keizersgracht 1", "1015 CJ Amsterdam")


def test_writing_a_new_file_creates_its_folder(paths: AppPaths) -> None:
    write_server_settings(paths, SERVER)
    assert read_server_settings(paths) == SERVER
    assert [p.name for p in paths.config_dir.iterdir()] == ["settings.toml"]  # no temp left


def test_the_password_goes_to_the_keyring_and_never_into_the_file(
    paths: AppPaths, keys: MemoryKeyring
) -> None:
    write_settings(paths, HAND_WRITTEN)
    store_password(SERVER, "s3cret-Pw")
    write_server_settings(paths, SERVER)

    assert b"s3cret-Pw" not in paths.settings_file.read_bytes()
    assert keys.passwords == {(KEYRING_SERVICE, "clerk@dbserver:5433/erpgo"): "s3cret-Pw"}
    assert stored_password(SERVER) == "s3cret-Pw"


def test_a_url_from_the_settings_file_gets_its_password_from_the_keyring(
    paths: AppPaths, keys: MemoryKeyring
) -> None:
    write_server_settings(paths, SERVER)
    store_password(SERVER, "s3cret-Pw")

    location = resolve_database(None, paths, {})

    assert location.source is UrlSource.SETTINGS_FILE
    assert location.url is not None and location.url.password == "s3cret-Pw"
    assert "s3cret-Pw" not in location.describe(paths)
    assert b"s3cret-Pw" not in paths.settings_file.read_bytes()


def test_urls_from_the_environment_and_command_line_get_the_keyring_password_too(
    paths: AppPaths, keys: MemoryKeyring
) -> None:
    store_password(SERVER, "s3cret-Pw")
    url = "postgresql://clerk@dbserver:5433/erpgo"

    from_env = resolve_database(None, paths, {DATABASE_URL_ENV: url}).url
    from_cli = resolve_database(url, paths, {}).url

    assert from_env is not None and from_env.password == "s3cret-Pw"
    assert from_cli is not None and from_cli.password == "s3cret-Pw"


def test_a_password_in_the_url_wins_over_the_keyring(paths: AppPaths, keys: MemoryKeyring) -> None:
    store_password(SERVER, "from-keyring")
    url = resolve_database("postgresql://clerk:typed@dbserver:5433/erpgo", paths, {}).url
    assert url is not None and url.password == "typed"


def test_the_default_port_finds_the_same_keyring_entry(
    paths: AppPaths, keys: MemoryKeyring
) -> None:
    server = ServerSettings(embedded=False, host="dbserver", database="erpgo", user="clerk")
    store_password(server, "pw-5432")
    url = resolve_database("postgresql://clerk@dbserver/erpgo", paths, {}).url
    assert url is not None and url.password == "pw-5432"


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


def test_a_hand_written_password_in_the_file_is_taken_out_on_saving(paths: AppPaths) -> None:
    write_settings(paths, 'database_url = "postgresql://clerk:old-pw@dbserver:5433/erpgo"\n')
    assert password_in_settings_file(paths) == "old-pw"
    assert read_server_settings(paths) == SERVER  # the settings themselves hold no password

    write_server_settings(paths, read_server_settings(paths))

    assert b"old-pw" not in paths.settings_file.read_bytes()
    assert password_in_settings_file(paths) is None


def test_connection_options_and_unix_sockets_survive(paths: AppPaths) -> None:
    write_settings(
        paths, 'database_url = "postgresql://clerk@/erpgo?host=/run/pg&sslmode=disable"\n'
    )
    settings = read_server_settings(paths)
    assert (settings.host, settings.port, settings.options) == (
        "/run/pg",
        5432,
        (("sslmode", "disable"),),
    )

    write_server_settings(paths, settings)

    assert read_server_settings(paths) == settings
    url = settings.url("pw")
    assert dict(url.query) == {"host": "/run/pg", "port": "5432", "sslmode": "disable"}


def test_a_server_choice_is_checked_field_by_field(paths: AppPaths) -> None:
    for changed, field in (
        ({"host": "  "}, "host"),
        ({"host": "db server"}, "host"),
        ({"port": 0}, "port"),
        ({"database": ""}, "database"),
        ({"user": ""}, "user"),
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


def test_without_a_keyring_reading_finds_nothing_and_saving_says_what_to_do(
    paths: AppPaths, without_keyring: None
) -> None:
    assert not keyring_available()
    write_server_settings(paths, SERVER)

    location = resolve_database(None, paths, {})
    assert location.url is not None and location.url.password is None  # libpq: ~/.pgpass
    assert stored_password(SERVER) is None
    forget_password(SERVER)  # nothing to forget, nothing to complain about

    with pytest.raises(ConfigurationError, match="pgpass") as caught:
        store_password(SERVER, "s3cret-Pw")
    assert caught.value.field == "password"
    assert b"s3cret-Pw" not in paths.settings_file.read_bytes()
    assert [p.name for p in paths.config_dir.iterdir()] == ["settings.toml"]


def test_a_keyring_that_refuses_is_a_clear_error_and_reading_it_is_quiet(
    paths: AppPaths,
) -> None:
    class LockedKeyring(MemoryKeyring):
        def get_password(self, service: str, username: str) -> str | None:
            raise RuntimeError("the keyring is locked")

        def set_password(self, service: str, username: str, password: str) -> None:
            raise RuntimeError("the keyring is locked")

    from tests.keyring_support import using_keyring

    with using_keyring(LockedKeyring()):
        assert stored_password(SERVER) is None
        with pytest.raises(ConfigurationError, match="keyring did not take") as caught:
            store_password(SERVER, "s3cret-Pw")
    assert "s3cret-Pw" not in caught.value.message


def test_forgetting_removes_only_that_servers_password(keys: MemoryKeyring) -> None:
    other = ServerSettings(**{**SERVER.__dict__, "database": "other"})
    store_password(SERVER, "one")
    store_password(other, "two")

    forget_password(SERVER)
    forget_password(SERVER)  # twice is fine

    assert stored_password(SERVER) is None
    assert stored_password(other) == "two"


def test_the_file_is_replaced_not_rewritten_in_place(paths: AppPaths) -> None:
    write_settings(paths, HAND_WRITTEN)
    before = os.stat(paths.settings_file).st_ino
    write_server_settings(paths, SERVER)
    # A new inode: the old content stayed whole until the new file took its name.
    assert os.stat(paths.settings_file).st_ino != before


def test_a_pgpass_line_escapes_its_separators() -> None:
    server = ServerSettings(embedded=False, host="db", database="a:b", user="c\\d")
    assert server.pgpass_line("p:w") == "db:5432:a\\:b:c\\\\d:p\\:w"
