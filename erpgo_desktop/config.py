"""Where the data lives: the database URL, the embedded server's directory, the log file;
and who prints: the company on printed documents.

The database URL comes from, in order: the `--database-url` option, the
`ERPGO_DATABASE_URL` environment variable, the user's settings file, and otherwise the
embedded PostgreSQL server whose data directory sits in the user's data directory.

Passwords are never written to the settings file. A URL without one gets it from the
operating system's keyring when there is one (in memory only); otherwise libpq looks in
the user's password file (~/.pgpass).
"""

from __future__ import annotations

import logging
import os
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import keyring
import keyring.backends.fail
import keyring.backends.null
import keyring.errors
import platformdirs
import tomlkit
import tomlkit.exceptions
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from erpgo_desktop import APP_NAME
from erpgo_desktop.errors import ConfigurationError, ValidationError

log = logging.getLogger(__name__)

DATABASE_URL_ENV = "ERPGO_DATABASE_URL"
CONFIG_DIR_ENV = "ERPGO_CONFIG_DIR"
DATA_DIR_ENV = "ERPGO_DATA_DIR"
EMBEDDED_DATABASE_NAME = "erpgo"
DATABASE_URL_KEY = "database_url"
DEFAULT_PORT = 5432
#: The keyring's "service" under which database passwords are kept.
KEYRING_SERVICE = "erpgo-desktop"


class UrlSource(Enum):
    COMMAND_LINE = "--database-url"
    ENVIRONMENT = DATABASE_URL_ENV
    SETTINGS_FILE = "settings file"
    EMBEDDED = "embedded server"


@dataclass(frozen=True)
class AppPaths:
    config_dir: Path
    data_dir: Path
    log_dir: Path

    @property
    def settings_file(self) -> Path:
        return self.config_dir / "settings.toml"

    @property
    def embedded_data_dir(self) -> Path:
        return self.data_dir / "pgdata"

    @property
    def log_file(self) -> Path:
        return self.log_dir / "erpgo-desktop.log"

    @classmethod
    def for_user(cls, environ: Mapping[str, str] | None = None) -> AppPaths:
        """The platform's per-user folders; the environment may move them (tests, portable use)."""
        env = os.environ if environ is None else environ
        config_dir = Path(env.get(CONFIG_DIR_ENV) or platformdirs.user_config_dir(APP_NAME))
        data_dir = Path(env.get(DATA_DIR_ENV) or platformdirs.user_data_dir(APP_NAME))
        log_dir = (
            data_dir / "logs" if DATA_DIR_ENV in env else Path(platformdirs.user_log_dir(APP_NAME))
        )
        return cls(config_dir=config_dir, data_dir=data_dir, log_dir=log_dir)


@dataclass(frozen=True)
class DatabaseLocation:
    """A database URL and where it came from; `url` is None for the embedded server."""

    source: UrlSource
    url: URL | None

    @property
    def is_embedded(self) -> bool:
        return self.source is UrlSource.EMBEDDED

    def describe(self, paths: AppPaths) -> str:
        """A one-line description that never shows a password."""
        if self.url is None:
            return f"embedded PostgreSQL in {paths.embedded_data_dir}"
        return f"{safe_url(self.url)} (from {self.source.value})"


def normalize_url(raw: str | URL) -> URL:
    """Parse a PostgreSQL URL and make it use the psycopg 3 driver."""
    try:
        url = make_url(raw)
    except ArgumentError as exc:
        raise ConfigurationError(f"Not a database URL: {safe_url(raw)}") from exc
    if url.get_backend_name() != "postgresql":
        raise ConfigurationError(
            f"ERPGo Desktop needs PostgreSQL, not {url.get_backend_name()}: {safe_url(url)}"
        )
    return url.set(drivername="postgresql+psycopg")


def safe_url(url: str | URL) -> str:
    """The URL with any password masked, fit for logs and screens."""
    try:
        parsed = url if isinstance(url, URL) else make_url(url)
    except ArgumentError:
        return "<unparseable URL>"
    # Shown as people write it: the driver suffix is ours, not theirs.
    return parsed.set(drivername=parsed.get_backend_name()).render_as_string(hide_password=True)


def read_settings(settings_file: Path) -> dict[str, object]:
    if not settings_file.exists():
        return {}
    try:
        with settings_file.open("rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"Cannot read the settings file {settings_file}: {exc}") from exc


def resolve_database(
    command_line_url: str | None,
    paths: AppPaths,
    environ: Mapping[str, str] | None = None,
) -> DatabaseLocation:
    """Pick the database by the documented precedence."""
    env = os.environ if environ is None else environ
    if command_line_url:
        url = with_stored_password(normalize_url(command_line_url))
        return DatabaseLocation(UrlSource.COMMAND_LINE, url)
    if env.get(DATABASE_URL_ENV):
        url = with_stored_password(normalize_url(env[DATABASE_URL_ENV]))
        return DatabaseLocation(UrlSource.ENVIRONMENT, url)
    configured = _configured_url(paths)
    if configured is not None:
        return DatabaseLocation(UrlSource.SETTINGS_FILE, with_stored_password(configured))
    return DatabaseLocation(UrlSource.EMBEDDED, None)


def _configured_url(paths: AppPaths) -> URL | None:
    configured = read_settings(paths.settings_file).get(DATABASE_URL_KEY)
    if not configured:
        return None
    if not isinstance(configured, str):
        raise ConfigurationError(f"{DATABASE_URL_KEY} in {paths.settings_file} must be a string")
    return normalize_url(configured)


@dataclass(frozen=True)
class CompanyInfo:
    """Who printed documents come from: the `[company]` table of the settings file."""

    name: str = ""
    address_lines: tuple[str, ...] = ()
    phone: str | None = None
    email: str | None = None
    tax_id: str | None = None


_COMPANY_KEYS = ("name", "address", "phone", "email", "tax_id")


def read_company(paths: AppPaths) -> CompanyInfo:
    """The `[company]` table of the settings file; an empty CompanyInfo without one.

    `address` is a list of lines or one string with line breaks. Unknown keys are refused
    rather than ignored, so a misspelt key does not silently leave a document without it.
    """
    settings_file = paths.settings_file
    table = read_settings(settings_file).get("company")
    if table is None:
        return CompanyInfo()
    if not isinstance(table, dict):
        raise ConfigurationError(f"company in {settings_file} must be a table: [company]")
    unknown = sorted(set(table) - set(_COMPANY_KEYS))
    if unknown:
        raise ConfigurationError(
            f"[company] in {settings_file} has unknown keys {', '.join(unknown)}; "
            f"it takes {', '.join(_COMPANY_KEYS)}"
        )

    def text(key: str) -> str | None:
        value = table.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise ConfigurationError(f"company.{key} in {settings_file} must be a string")
        return value.strip() or None

    address = table.get("address")
    if isinstance(address, str):
        lines = address.splitlines()
    elif isinstance(address, list) and all(isinstance(line, str) for line in address):
        lines = address
    elif address is None:
        lines = []
    else:
        raise ConfigurationError(
            f"company.address in {settings_file} must be a list of lines or a string"
        )
    return CompanyInfo(
        name=text("name") or "",
        address_lines=tuple(line.strip() for line in lines if line.strip()),
        phone=text("phone"),
        email=text("email"),
        tax_id=text("tax_id"),
    )


# --- the server chosen in the settings file, and its password in the keyring --------------


@dataclass(frozen=True)
class ServerSettings:
    """Where the settings file points: the embedded database, or a PostgreSQL server.

    Never holds a password. `options` are other connection parameters the URL carried
    (sslmode=require, say): kept as they were, since there is no field for them.
    """

    embedded: bool = True
    host: str = ""
    port: int = DEFAULT_PORT
    database: str = ""
    user: str = ""
    options: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_url(cls, raw: str | URL) -> ServerSettings:
        url = normalize_url(raw)
        query = {key: value for key, value in url.query.items() if isinstance(value, str)}
        # A Unix socket's folder cannot sit in a URL's host part: it travels as ?host=.
        host = url.host or query.pop("host", "")
        port_text = query.pop("port", "")
        port = url.port or (int(port_text) if port_text.isdigit() else DEFAULT_PORT)
        return cls(
            embedded=False,
            host=host,
            port=port,
            database=url.database or "",
            user=url.username or "",
            options=tuple(sorted(query.items())),
        )

    def check(self) -> ServerSettings:
        """Refuse a server choice that cannot name a database; returns self, tidied."""
        if self.embedded:
            return self
        tidy = ServerSettings(
            embedded=False,
            host=self.host.strip(),
            port=self.port,
            database=self.database.strip(),
            user=self.user.strip(),
            options=self.options,
        )
        if not tidy.host:
            raise ValidationError("Enter the server's name or address.", field="host")
        if any(char.isspace() for char in tidy.host):
            raise ValidationError("A host name has no spaces.", field="host")
        if not 1 <= tidy.port <= 65535:
            raise ValidationError("A port is a number from 1 to 65535.", field="port")
        if not tidy.database:
            raise ValidationError("Enter the name of the database.", field="database")
        if not tidy.user:
            raise ValidationError("Enter the user name to connect as.", field="user")
        return tidy

    @property
    def is_socket(self) -> bool:
        return self.host.startswith("/")

    def url(self, password: str | None = None) -> URL:
        """The URL to connect with (psycopg driver); a password only ever in memory."""
        if self.embedded:
            raise ConfigurationError("The embedded database has no URL before it starts.")
        query = dict(self.options)
        if self.is_socket:
            query.update(host=self.host, port=str(self.port))
        return URL.create(
            "postgresql+psycopg",
            username=self.user or None,
            password=password or None,
            host=None if self.is_socket else self.host,
            port=None if self.is_socket else self.port,
            database=self.database or None,
            query=query,
        )

    def settings_url(self) -> str:
        """The URL as written to the settings file: plain `postgresql`, no password."""
        return self.url().set(drivername="postgresql").render_as_string(hide_password=False)

    @property
    def keyring_username(self) -> str:
        """The key of this server's password in the keyring: user@host:port/database."""
        return f"{self.user}@{self.host}:{self.port}/{self.database}"

    def pgpass_line(self, password: str = "PASSWORD") -> str:
        """A line of the PostgreSQL password file for this server."""

        def escaped(part: str) -> str:
            return part.replace("\\", "\\\\").replace(":", "\\:")

        host = "localhost" if self.is_socket else self.host
        parts = (host, str(self.port), self.database, self.user, password)
        return ":".join(escaped(part) for part in parts)

    def describe(self) -> str:
        if self.embedded:
            return "the embedded database on this computer"
        return safe_url(self.settings_url())


PGPASS_HINT = (
    "the PostgreSQL password file instead: ~/.pgpass "
    "(on Windows %APPDATA%\\postgresql\\pgpass.conf), one line host:port:database:user:password"
)


def read_server_settings(paths: AppPaths) -> ServerSettings:
    """The server the settings file names (its `database_url`), or the embedded database."""
    url = _configured_url(paths)
    return ServerSettings() if url is None else ServerSettings.from_url(url)


def password_in_settings_file(paths: AppPaths) -> str | None:
    """A password someone wrote into the settings file's URL by hand, if any; saving the
    connection settings takes it out of there."""
    url = _configured_url(paths)
    return url.password if url is not None and url.password else None


def write_server_settings(paths: AppPaths, settings: ServerSettings) -> None:
    """Point the settings file at `settings`: a server's URL without password, or (embedded)
    no `database_url` at all. Every other key, table and comment stays as it was."""
    settings_file = paths.settings_file
    try:
        text = settings_file.read_text(encoding="utf-8") if settings_file.exists() else ""
        document = tomlkit.parse(text)
    except (OSError, UnicodeDecodeError, tomlkit.exceptions.TOMLKitError) as exc:
        raise ConfigurationError(f"Cannot read the settings file {settings_file}: {exc}") from exc
    if settings.embedded:
        if DATABASE_URL_KEY in document:
            del document[DATABASE_URL_KEY]
    else:
        document[DATABASE_URL_KEY] = settings.check().settings_url()
    _replace_file(settings_file, tomlkit.dumps(document))


def _replace_file(path: Path, content: str) -> None:
    """Write `content` to `path` all at once: a reader sees the old file or the new one,
    never half of it, and a full disk leaves the old one in place."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # A new file keeps mkstemp's owner-only mode; an existing one keeps its own.
        mode = path.stat().st_mode & 0o777 if path.exists() else None
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
                stream.write(content)
                stream.flush()
                os.fsync(stream.fileno())
            if mode is not None:
                os.chmod(temporary, mode)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise ConfigurationError(f"Cannot write the settings file {path}: {exc}") from exc


def keyring_available() -> bool:
    """Whether the operating system offers a keyring to keep passwords in."""
    try:
        backend = keyring.get_keyring()
    except Exception:  # a broken keyring configuration is the same as none at all
        log.warning("the keyring cannot be loaded", exc_info=True)
        return False
    # The null backend accepts passwords and keeps none: as good as no keyring.
    return not isinstance(backend, keyring.backends.fail.Keyring | keyring.backends.null.Keyring)


def stored_password(settings: ServerSettings) -> str | None:
    """The password kept in the keyring for this server; None without one or without a
    usable keyring (libpq then looks in ~/.pgpass)."""
    if settings.embedded or not keyring_available():
        return None
    try:
        return keyring.get_password(KEYRING_SERVICE, settings.keyring_username)
    except Exception:  # backends raise what their platform raises (D-Bus, locked, denied)
        log.warning("cannot read the password of %s from the keyring", settings.describe())
        return None


def store_password(settings: ServerSettings, password: str) -> None:
    """Keep the password in the keyring; ConfigurationError when there is no usable one.

    There is deliberately no fallback to a file of ours: the password file of PostgreSQL
    itself is the place for it then.
    """
    if not keyring_available():
        raise ConfigurationError(
            f"There is no keyring on this computer to keep the password in. Use {PGPASS_HINT}.",
            field="password",
        )
    try:
        keyring.set_password(KEYRING_SERVICE, settings.keyring_username, password)
    except Exception as exc:  # backends raise what their platform raises
        log.warning("cannot store the password of %s in the keyring: %s", settings.describe(), exc)
        raise ConfigurationError(
            f"The keyring did not take the password ({type(exc).__name__}). Unlock the "
            f"keyring and try again, or use {PGPASS_HINT}.",
            field="password",
        ) from exc


def forget_password(settings: ServerSettings) -> None:
    """Remove this server's password from the keyring, if it holds one."""
    if settings.embedded or not keyring_available():
        return
    try:
        if keyring.get_password(KEYRING_SERVICE, settings.keyring_username) is not None:
            keyring.delete_password(KEYRING_SERVICE, settings.keyring_username)
    except Exception as exc:  # backends raise what their platform raises
        raise ConfigurationError(
            f"The keyring did not let the password go ({type(exc).__name__}).",
            field="password",
        ) from exc


def with_stored_password(url: URL) -> URL:
    """`url` with the keyring's password for it when it has none of its own."""
    if url.password:
        return url
    try:
        settings = ServerSettings.from_url(url)
    except ConfigurationError:
        return url
    password = stored_password(settings) if settings.host and settings.user else None
    return url.set(password=password) if password else url
