"""Expected errors: things a person can fix, each with a message meant for that person.

Anything that is not an `ErpError` is a bug and is logged with its traceback.
"""

from __future__ import annotations


class ErpError(Exception):
    """An expected failure, with a message for the user and, where it applies, the field."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ValidationError(ErpError):
    """The input breaks a rule; nothing was written."""


class NotFoundError(ErpError):
    """The record asked for does not exist (any more)."""


class ConflictError(ErpError):
    """Someone else changed the data first, or a unique value is already taken.

    For an edit over a newer version, `current` holds the record as it is now, so the
    screen can show both versions.
    """

    def __init__(
        self, message: str, *, field: str | None = None, current: object | None = None
    ) -> None:
        super().__init__(message, field=field)
        self.current = current


class PermissionDeniedError(ErpError):
    """The acting user may not do this."""


class AuthenticationError(ErpError):
    """Wrong username or password, or the account may not log in."""


class ConfigurationError(ErpError):
    """The database location or the settings file cannot be used."""


CONNECTION_LOST_MESSAGE = (
    "The database server cannot be reached. Your work is kept; try again when the "
    "connection is back."
)


class ConnectionLostError(ErpError):
    """The database server went away or cannot be reached (stopped, restarting, network).

    Not the user's doing and not a bug: what was typed stays where it is, and the same
    action can be tried again once the server answers.
    """

    def __init__(self, message: str = CONNECTION_LOST_MESSAGE) -> None:
        super().__init__(message)
