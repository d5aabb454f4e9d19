"""`erpgo-desktop backup FILE` and `erpgo-desktop restore FILE`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from erpgo_desktop.config import AppPaths, DatabaseLocation


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    backup = commands.add_parser(
        "backup",
        help="back the whole database up to a file (pg_dump, custom format)",
        description="Write the whole database to FILE with pg_dump in custom format, in one "
        "consistent snapshot while people keep working. The tools come from pg_bin_dir in "
        "the settings file when set, else from the embedded server, else from PATH; their "
        "version must be at least the server's.",
    )
    backup.add_argument("file", metavar="FILE", type=Path, help="e.g. erpgo-20260101.backup")
    backup.add_argument(
        "--overwrite", action="store_true", help="replace FILE if it exists (default: refuse)"
    )
    backup.set_defaults(handler=run_backup)

    restore = commands.add_parser(
        "restore",
        help="restore a backup file into the (empty) database",
        description="Restore FILE, made by `erpgo-desktop backup`, into the configured "
        "database, which must have no tables: create an empty one and point "
        "--database-url at it. The restore is all or nothing, and afterwards every table's "
        "row count is checked against the file's.",
    )
    restore.add_argument("file", metavar="FILE", type=Path)
    restore.set_defaults(handler=run_restore)


def run_backup(args: argparse.Namespace, location: DatabaseLocation, paths: AppPaths) -> int:
    # cli imports this module to register the commands: import it back only when running.
    from erpgo_desktop.cli import EXIT_OK, TerminalProgress, _engine
    from erpgo_desktop.services.backup import BackupService, configured_pg_bin_dir
    from erpgo_desktop.services.health import human_size

    engine = _engine(location, paths)
    progress = TerminalProgress()
    try:
        service = BackupService(engine, pg_bin_dir=configured_pg_bin_dir(paths))
        result = service.backup(args.file, acting=None, progress=progress, overwrite=args.overwrite)
    finally:
        progress.finish()
        engine.dispose()
    print(
        f"Backed up {location.describe(paths)} (PostgreSQL {result.server_version}) to "
        f"{result.path}: {result.tables} tables, {human_size(result.size_bytes)}, "
        f"{result.seconds:.1f} s with {result.tool}."
    )
    return EXIT_OK


def run_restore(args: argparse.Namespace, location: DatabaseLocation, paths: AppPaths) -> int:
    from erpgo_desktop.cli import EXIT_ERROR, EXIT_OK, TerminalProgress, _engine
    from erpgo_desktop.db import migrate
    from erpgo_desktop.services.backup import BackupService, configured_pg_bin_dir

    engine = _engine(location, paths)
    progress = TerminalProgress()
    try:
        service = BackupService(engine, pg_bin_dir=configured_pg_bin_dir(paths))
        result = service.restore(args.file, acting=None, progress=progress)
        up_to_date = migrate.is_up_to_date(engine)
    finally:
        progress.finish()
        engine.dispose()
    for count in result.tables:
        mark = "" if count.matches else f"   DIFFERS: {count.in_backup:,} in the backup"
        print(f"  {count.table:<24}{count.restored:>14,}{mark}")
    revision = f" at schema revision {result.schema_revision}" if result.schema_revision else ""
    print(
        f"Restored {args.file}{revision} into {location.describe(paths)}: "
        f"{len(result.tables)} tables, {result.rows:,} rows, {result.seconds:.1f} s with "
        f"{result.tool}."
    )
    if not result.verified:
        print(
            f"erpgo-desktop: {len(result.mismatches)} tables have another row count than the "
            "backup file; do not use this database before finding out why.",
            file=sys.stderr,
        )
        return EXIT_ERROR
    print("Every table has the same row count as the backup.")
    if result.roles_note:
        print(result.roles_note)
    if not up_to_date:
        print(
            f"The schema is at revision {result.schema_revision}, this program's is "
            f"{migrate.head_revision()}: run `erpgo-desktop migrate` before using it."
        )
    return EXIT_OK
