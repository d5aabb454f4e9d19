"""Where the data lives: the database URL, the embedded server's directory, the log file;
and who prints: the company on printed documents.

The database URL comes from, in order: the `--database-url` option, the
`ERPGO_DATABASE_URL` environment variable, the user's settings file, and otherwise the
embedded PostgreSQL server whose data directory sits in the user's data directory.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import platformdirs
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from erpgo_desktop import APP_NAME
from erpgo_desktop.errors import ConfigurationError

DATABASE_URL_ENV = "ERPGO_DATABASE_URL"
CONFIG_DIR_ENV = "ERPGO_CONFIG_DIR"
DATA_DIR_ENV = "ERPGO_DATA_DIR"
EMBEDDED_DATABASE_NAME = "erpgo"


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
        return DatabaseLocation(UrlSource.COMMAND_LINE, normalize_url(command_line_url))
    if env.get(DATABASE_URL_ENV):
        return DatabaseLocation(UrlSource.ENVIRONMENT, normalize_url(env[DATABASE_URL_ENV]))
    configured = read_settings(paths.settings_file).get("database_url")
    if configured:
        if not isinstance(configured, str):
            raise ConfigurationError(f"database_url in {paths.settings_file} must be a string")
        return DatabaseLocation(UrlSource.SETTINGS_FILE, normalize_url(configured))
    return DatabaseLocation(UrlSource.EMBEDDED, None)


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
