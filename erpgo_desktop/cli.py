"""The `erpgo-desktop` command: the GUI by default, and the administrator's subcommands."""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
import time
from collections.abc import Callable, Sequence

from sqlalchemy import text
from sqlalchemy.engine import Engine

from erpgo_desktop import __version__
from erpgo_desktop.commands import backup as backup_commands
from erpgo_desktop.commands import health as health_commands
from erpgo_desktop.commands import privileges as privileges_commands
from erpgo_desktop.config import AppPaths, DatabaseLocation, resolve_database, safe_url
from erpgo_desktop.errors import ErpError

EXIT_OK = 0
EXIT_ERROR = 1  # an expected failure, explained on stderr
EXIT_PROBLEMS_FOUND = 3  # doctor found inconsistent data

log = logging.getLogger("erpgo_desktop")

#: What a subcommand runs: its parsed arguments, the database chosen, the user's folders.
CommandHandler = Callable[[argparse.Namespace, DatabaseLocation, AppPaths], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="erpgo-desktop",
        description="ERPGo Desktop. Without a command, opens the application window.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help="PostgreSQL URL, e.g. postgresql://user@server/erpgo (default: $ERPGO_DATABASE_URL, "
        "then database_url in the settings file, then the embedded server)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more to stderr")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="on an empty database, create demo data and a demo login shown at sign-in",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    migrate = commands.add_parser(
        "migrate",
        help="upgrade the database schema to the newest revision",
        description="Upgrade the database schema to the newest revision (an empty database "
        "included). Safe to run again: a database already up to date is left as it is.",
    )
    migrate.set_defaults(handler=cmd_migrate)

    create_user = commands.add_parser(
        "create-user",
        help="create a user account",
        description="Create a user account with one role. The password is asked for at a "
        "prompt, or read from standard input with --password-stdin.",
    )
    create_user.add_argument("--username", required=True)
    create_user.add_argument("--email", required=True)
    create_user.add_argument(
        "--role", required=True, help="admin, manager, sales or warehouse_clerk"
    )
    create_user.add_argument("--first-name", help="default: the username")
    create_user.add_argument("--last-name", default="")
    create_user.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    create_user.set_defaults(handler=cmd_create_user)

    demo = commands.add_parser(
        "demo-data",
        help="fill an empty database with realistic demo data",
        description="Fill an empty, migrated database with realistic, reproducible demo data.",
    )
    demo.add_argument("--seed", type=int, default=42, help="same seed, same data (default 42)")
    demo.add_argument("--products", type=_count, default=2000)
    demo.add_argument("--customers", type=_count, default=500)
    demo.add_argument("--orders", type=_count, default=3000)
    demo.add_argument("--warehouses", type=_count, default=3)
    demo.set_defaults(handler=cmd_demo_data)

    doctor = commands.add_parser(
        "doctor",
        help="show the server, the database location, the schema revision and row counts "
        "(and with --health, sizes, connections and slow statements)",
        description="Show the server version, where the database is, the schema revision and "
        "row counts, and check that every stock ledger adds up to the stock on hand. "
        f"Exits with {EXIT_PROBLEMS_FOUND} when a check fails.",
    )
    health_commands.add_doctor_health_option(doctor)
    doctor.set_defaults(handler=cmd_doctor)
    privileges_commands.add_commands(commands)
    backup_commands.add_commands(commands)
    return parser


def _count(value: str) -> int:
    number = int(value.replace(",", "").replace("_", ""))
    if number < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return number


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    paths = AppPaths.for_user()
    try:
        location = resolve_database(args.database_url, paths)
        if args.command is None:
            from erpgo_desktop.app import run_gui

            return run_gui(location, paths, demo=args.demo)
        handler: CommandHandler = args.handler
        return handler(args, location, paths)
    except ErpError as exc:
        print(f"erpgo-desktop: {exc.message}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("erpgo-desktop: interrupted", file=sys.stderr)
        return 130


def _engine(location: DatabaseLocation, paths: AppPaths) -> Engine:
    from erpgo_desktop.db.engine import make_engine
    from erpgo_desktop.services.setup import database_url

    return make_engine(database_url(location, paths))


def _require_current_schema(engine: Engine) -> None:
    from erpgo_desktop.db import migrate

    if not migrate.is_up_to_date(engine):
        raise ErpError("The database schema is not up to date; run `erpgo-desktop migrate` first.")


def cmd_migrate(args: argparse.Namespace, location: DatabaseLocation, paths: AppPaths) -> int:
    from erpgo_desktop.db import migrate

    engine = _engine(location, paths)
    before = migrate.current_revision(engine)
    migrate.upgrade(engine)
    after = migrate.current_revision(engine)
    if before == after:
        print(f"Schema already at revision {after}: {location.describe(paths)}")
    else:
        print(f"Schema upgraded from {before or 'empty'} to {after}: {location.describe(paths)}")
    if location.is_embedded:
        # This workstation's own server: its superuser is the administrator too.
        from erpgo_desktop.services.security import setup_security

        setup_security(engine)
        print("Roles and grants set up (setup-roles).")
    else:
        print("Now run `erpgo-desktop setup-roles` as a superuser: it puts the roles right.")
    return EXIT_OK


def cmd_create_user(args: argparse.Namespace, location: DatabaseLocation, paths: AppPaths) -> int:
    from erpgo_desktop.db.engine import make_session_factory
    from erpgo_desktop.services.auth import AuthService, NewUser

    password = _read_password(from_stdin=args.password_stdin)
    engine = _engine(location, paths)
    _require_current_schema(engine)
    user = AuthService(make_session_factory(engine)).create_user(
        NewUser(
            username=args.username,
            email=args.email,
            password=password,
            role=args.role,
            first_name=args.first_name or args.username,
            last_name=args.last_name,
        ),
        acting=None,
    )
    print(f"Created user {user.username} with role {', '.join(user.roles)}.")
    return EXIT_OK


def _read_password(*, from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise ErpError("No terminal to ask for the password; use --password-stdin.")
    password = getpass.getpass("Password: ")
    if getpass.getpass("Repeat password: ") != password:
        raise ErpError("The two passwords differ; nothing was created.")
    return password


def cmd_demo_data(args: argparse.Namespace, location: DatabaseLocation, paths: AppPaths) -> int:
    from erpgo_desktop.db.demo_data import DemoDataSize, generate_demo_data

    engine = _engine(location, paths)
    _require_current_schema(engine)
    size = DemoDataSize(
        products=args.products,
        customers=args.customers,
        orders=args.orders,
        warehouses=args.warehouses,
    )
    progress = TerminalProgress()
    summary = generate_demo_data(engine.url, size, seed=args.seed, progress=progress)
    progress.finish()
    for table, count in summary.rows.items():
        print(f"{table:<24}{count:>14,}")
    print(f"Demo data written in {summary.seconds:.1f} s.")
    return EXIT_OK


class TerminalProgress:
    """One updating line on a terminal; a line now and then when stderr is a file."""

    def __init__(self) -> None:
        self._interactive = sys.stderr.isatty()
        self._last_stage = ""
        self._last_print = 0.0

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if stage == self._last_stage and now - self._last_print < (0.2 if self._interactive else 5):
            return
        if stage != self._last_stage and self._last_stage and self._interactive:
            sys.stderr.write("\n")
        self._last_stage, self._last_print = stage, now
        figures = f" {done:,}/{total:,} ({100 * done // total}%)" if total else ""
        if self._interactive:
            sys.stderr.write(f"\r{stage}{figures}\x1b[K")
        else:
            sys.stderr.write(f"{stage}{figures}\n")
        sys.stderr.flush()

    def finish(self) -> None:
        if self._interactive and self._last_stage:
            sys.stderr.write("\n")


def cmd_doctor(args: argparse.Namespace, location: DatabaseLocation, paths: AppPaths) -> int:
    engine = _engine(location, paths)
    status = _doctor_report(engine, location, paths)
    if getattr(args, "health", False):
        print()
        status = max(status, health_commands.run_health(engine))
    return status


def _doctor_report(engine: Engine, location: DatabaseLocation, paths: AppPaths) -> int:
    from erpgo_desktop.db import migrate
    from erpgo_desktop.db.models import Base

    print(f"Database:        {location.describe(paths)}")
    print(f"Connection:      {safe_url(engine.url)}")
    with engine.connect() as connection:
        print(f"Server:          {connection.execute(text('SELECT version()')).scalar_one()}")
    current, head = migrate.current_revision(engine), migrate.head_revision()
    state = "up to date" if current == head else f"newest is {head}: run `erpgo-desktop migrate`"
    print(f"Schema revision: {current or 'none (empty database)'} ({state})")
    if current is None:
        return EXIT_OK
    print("Rows:")
    with engine.connect() as connection:
        for table in sorted(Base.metadata.tables.values(), key=lambda t: t.name):
            count = connection.execute(text(f'SELECT count(*) FROM "{table.name}"')).scalar_one()
            print(f"  {table.name:<24}{count:>14,}")
        problems = _ledger_problems(engine)
    for problem in problems:
        print(f"PROBLEM: {problem}")
    if not problems:
        print("Checks:          every stock ledger equals its stock on hand")
    return EXIT_PROBLEMS_FOUND if problems else EXIT_OK


def _ledger_problems(engine: Engine) -> list[str]:
    ledger_mismatches = text(
        """
        SELECT count(*) FROM product_inventory pi
        FULL JOIN (
            SELECT product_id, warehouse_id, sum(quantity) AS total
            FROM inventory_transactions GROUP BY product_id, warehouse_id
        ) ledger USING (product_id, warehouse_id)
        WHERE coalesce(pi.quantity_available, 0) <> coalesce(ledger.total, 0)
        """
    )
    stock_mismatches = text(
        """
        SELECT count(*) FROM products p
        LEFT JOIN (
            SELECT product_id, sum(quantity_available) AS total
            FROM product_inventory GROUP BY product_id
        ) stock ON stock.product_id = p.id
        WHERE p.stock_quantity <> coalesce(stock.total, 0)
        """
    )
    problems = []
    with engine.connect() as connection:
        ledger = connection.execute(ledger_mismatches).scalar_one()
        stock = connection.execute(stock_mismatches).scalar_one()
    if ledger:
        problems.append(f"{ledger:,} product/warehouse stock levels differ from their ledger")
    if stock:
        problems.append(f"{stock:,} products' stock differs from the sum over warehouses")
    return problems
