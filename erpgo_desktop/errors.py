"""Expected errors: things a person can fix, each with a message meant for that person.

Anything that is not an `ErpError` is a bug and is logged with its traceback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from erpgo_desktop.domain.inventory import ReservationOptions


class ErpError(Exception):
    """An expected failure, with a message for the user and, where it applies, the field."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ValidationError(ErpError):
    """The input breaks a rule; nothing was written."""


class StockShortageError(ValidationError):
    """Too little sellable stock to reserve an order; nothing was reserved.

    `options` (when the service could read them in the same transaction) says what every
    active warehouse can sell of each line and where the order could be reserved from, so
    the screen can offer that instead of only refusing.
    """

    def __init__(
        self, message: str, *, field: str | None = None, options: ReservationOptions | None = None
    ) -> None:
        super().__init__(message, field=field)
        self.options = options


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


ACCOUNT_DISABLED_MESSAGE = "Your account was deactivated by an administrator; you are signed out."


class AccountDisabledError(AuthenticationError):
    """The server ended this person's session and refuses them a new one: an administrator
    deactivated the account while they were signed in.

    Unlike a lost connection, trying again cannot help; signing in again can (as someone
    else, or once the account is reactivated). Distinct from the AuthenticationError a
    sign-in of a disabled account gets: this one means "you were signed out".
    """

    def __init__(
        self, message: str = ACCOUNT_DISABLED_MESSAGE, *, login_role: str | None = None
    ) -> None:
        super().__init__(message)
        #: The login role the server refused, as it named it (None when it did not).
        self.login_role = login_role


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
