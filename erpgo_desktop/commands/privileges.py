"""`erpgo-desktop setup-roles`: the application role workstations connect as."""

from __future__ import annotations

import argparse
import sys

from erpgo_desktop.config import AppPaths, DatabaseLocation, safe_url
from erpgo_desktop.services.privileges import DEFAULT_ROLE, application_url, check_role_name


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    setup_roles = commands.add_parser(
        "setup-roles",
        help="create or update the application role workstations connect as",
        description="Create (or bring up to date) a database role that may read and write "
        "the app's rows but not change the schema: run as the schema's owner (with "
        "CREATEROLE) or as a superuser, after `migrate`, and again after each `migrate`. "
        "The password is asked for at a prompt, or read from standard input with "
        "--password-stdin.",
    )
    setup_roles.add_argument(
        "--role",
        default=DEFAULT_ROLE,
        type=_role_name,
        help=f"the role's name (default {DEFAULT_ROLE})",
    )
    password = setup_roles.add_mutually_exclusive_group()
    password.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    password.add_argument(
        "--no-password",
        action="store_true",
        help="set no password (keep an existing role's; the role then logs in by other means)",
    )
    setup_roles.set_defaults(handler=run_setup_roles)


def _role_name(value: str) -> str:
    from erpgo_desktop.errors import ValidationError

    try:
        return check_role_name(value)
    except ValidationError as exc:
        raise argparse.ArgumentTypeError(exc.message) from exc


def run_setup_roles(args: argparse.Namespace, location: DatabaseLocation, paths: AppPaths) -> int:
    # cli imports this module to register the command: import it back only when running.
    from erpgo_desktop.cli import EXIT_OK, _engine, _read_password
    from erpgo_desktop.services.privileges import setup_application_role

    password = None if args.no_password else _read_password(from_stdin=args.password_stdin)
    if password == "":
        from erpgo_desktop.errors import ValidationError

        raise ValidationError("The password is empty; nothing was changed (or use --no-password).")
    engine = _engine(location, paths)
    try:
        done = setup_application_role(engine, args.role, password)
    finally:
        engine.dispose()

    state = "created" if done.created else "updated"
    password_state = "password set" if done.password_changed else "password unchanged"
    print(f"Role {done.role} {state} ({password_state}); schema owner {done.owner}. Granted:")
    for line in done.granted():
        print(f"  {line}")
    for warning in done.warnings:
        print(f"erpgo-desktop: warning: {warning}", file=sys.stderr)
    print("Workstations connect with (password in their pgpass file, or in the URL):")
    print(f"  {safe_url(application_url(engine.url, done.role))}")
    print("Run `erpgo-desktop migrate` as the owner, then this command again, on each upgrade.")
    return EXIT_OK
