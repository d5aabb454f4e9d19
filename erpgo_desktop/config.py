"""Where the data lives: the database URL, the embedded server's directory, the log file;
and who prints: the company on printed documents.

The database URL comes from, in order: the `--database-url` option, the
`ERPGO_DATABASE_URL` environment variable, the user's settings file, and otherwise the
embedded PostgreSQL server whose data directory sits in the user's data directory.

The settings file names only the server: host, port and database. People sign in as
themselves (services/auth.py), so a workstation keeps nobody's user name or password; a
user or password in a URL is for the administrator's commands (`migrate`, `setup-roles`,
`backup`), which otherwise take libpq's (PGPASSWORD, ~/.pgpass).
"""

from __future__ import annotations

import os
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import platformdirs
import tomlkit
import tomlkit.exceptions
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from erpgo_desktop import APP_NAME
from erpgo_desktop.errors import ConfigurationError, ValidationError

DATABASE_URL_ENV = "ERPGO_DATABASE_URL"
CONFIG_DIR_ENV = "ERPGO_CONFIG_DIR"
DATA_DIR_ENV = "ERPGO_DATA_DIR"
EMBEDDED_DATABASE_NAME = "erpgo"
DATABASE_URL_KEY = "database_url"
DEFAULT_PORT = 5432


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


def without_credentials(url: URL) -> URL:
    """`url` without who connects: no user or password, in its user part or its query."""
    # Built anew: URL.set(username=None) keeps the user (None means "unchanged").
    query = {key: value for key, value in url.query.items() if key not in ("user", "password")}
    return URL.create(
        url.drivername, host=url.host, port=url.port, database=url.database, query=query
    )


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
        return DatabaseLocation(UrlSource.COMMAND_LINE, normalize_url(command_line_url))
    if env.get(DATABASE_URL_ENV):
        return DatabaseLocation(UrlSource.ENVIRONMENT, normalize_url(env[DATABASE_URL_ENV]))
    configured = _configured_url(paths)
    if configured is not None:
        return DatabaseLocation(UrlSource.SETTINGS_FILE, configured)
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


# --- the server chosen in the settings file ------------------------------------------------


@dataclass(frozen=True)
class ServerSettings:
    """Where the settings file points: the embedded database, or a PostgreSQL server.

    Only where the server is, never who connects: people sign in as themselves, so a
    workstation keeps no user name and no password. `options` are other connection
    parameters the URL carried (sslmode=require, say): kept as they were, since there is
    no field for them.
    """

    embedded: bool = True
    host: str = ""
    port: int = DEFAULT_PORT
    database: str = ""
    options: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_url(cls, raw: str | URL) -> ServerSettings:
        """The server of a URL; a user name or password in it is left behind."""
        url = normalize_url(raw)
        query = {key: value for key, value in url.query.items() if isinstance(value, str)}
        # A Unix socket's folder cannot sit in a URL's host part: it travels as ?host=.
        host = url.host or query.pop("host", "")
        port_text = query.pop("port", "")
        port = url.port or (int(port_text) if port_text.isdigit() else DEFAULT_PORT)
        # Who connects is each person's own business: a user= in the query goes too.
        for key in ("user", "password"):
            query.pop(key, None)
        return cls(
            embedded=False,
            host=host,
            port=port,
            database=url.database or "",
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
        return tidy

    @property
    def is_socket(self) -> bool:
        return self.host.startswith("/")

    def url(self) -> URL:
        """The server's URL (psycopg driver), naming no user."""
        if self.embedded:
            raise ConfigurationError("The embedded database has no URL before it starts.")
        query = dict(self.options)
        if self.is_socket:
            query.update(host=self.host, port=str(self.port))
        return URL.create(
            "postgresql+psycopg",
            host=None if self.is_socket else self.host,
            port=None if self.is_socket else self.port,
            database=self.database or None,
            query=query,
        )

    def settings_url(self) -> str:
        """The URL as written to the settings file: plain `postgresql`, no user."""
        return self.url().set(drivername="postgresql").render_as_string(hide_password=False)

    def describe(self) -> str:
        if self.embedded:
            return "the embedded database on this computer"
        return safe_url(self.settings_url())


def unused_credentials(url: str | URL) -> str | None:
    """What a URL says about who connects, which signing in does not use, in words ("user
    clerk and a password"); None when it names nobody. Never the password itself."""
    parsed = normalize_url(url)
    query = parsed.query
    user = parsed.username or query.get("user")
    has_password = bool(parsed.password or query.get("password"))
    if user and has_password:
        return f"user {user} and a password"
    if user:
        return f"user {user}"
    return "a password" if has_password else None


def read_server_settings(paths: AppPaths) -> ServerSettings:
    """The server the settings file names (its `database_url`), or the embedded database."""
    url = _configured_url(paths)
    return ServerSettings() if url is None else ServerSettings.from_url(url)


def credentials_in_settings_file(paths: AppPaths) -> str | None:
    """A user or password the settings file's URL names (`unused_credentials`); saving
    the connection settings leaves them out."""
    url = _configured_url(paths)
    return None if url is None else unused_credentials(url)


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
