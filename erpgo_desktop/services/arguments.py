"""The services' entry check: every argument of every public service method has the type
its annotation says, before the method runs.

A service method is where the window, an import or a script hands values to the program:
a None where a number belongs, a text where a record id belongs or a number PostgreSQL
cannot hold would otherwise surface as a TypeError, an AttributeError or a DataError from
deep inside a query. Here they become a ValidationError naming the argument (or the
draft's field), with nothing begun.

The check reads the method's annotations once, at its first call, so a new method is
checked as soon as it exists. What a value means (a price above zero, a search of at most
255 characters) stays with the domain rules; this only checks what kind of value it is,
and text through `domain.validation.text_input` (no NUL characters). Inside a draft,
whole numbers may also come as text or Decimal, and amounts (Decimal, or a number "as
typed": int | str | Decimal) are left to the domain's number parsers, which read any value
and say what is wrong with it in the rule's own words.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import inspect
import logging
import types
import typing
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from erpgo_desktop.domain.validation import text_input
from erpgo_desktop.errors import ValidationError

log = logging.getLogger(__name__)

C = TypeVar("C", bound=type)
F = TypeVar("F", bound=Callable[..., Any])

#: PostgreSQL's bigint: no whole number a service passes on can be larger.
MIN_WHOLE, MAX_WHOLE = -(2**63), 2**63 - 1

#: check(value, field) raises ValidationError when `value` is not of the kind; None: any.
Check = Callable[[Any, str], None]

_KINDS: dict[type, str] = {
    str: "text",
    int: "a whole number",
    bool: "yes or no",
    Decimal: "a number",
    uuid.UUID: "a record's id",
    datetime: "a date and time",
    date: "a date",
}


def _label(field: str) -> str:
    return field.rsplit(".", 1)[-1].replace("_", " ").capitalize()


def _refuse(field: str, kind: str) -> ValidationError:
    return ValidationError(f"{_label(field)} must be {kind}.", field=field)


def _scalar(kind: type, *, lenient_numbers: bool) -> Check:
    if kind is str:

        def check_text(value: Any, field: str) -> None:
            text_input(value, field, _label(field))

        return check_text
    if kind is int:
        accepted: tuple[type, ...] = (int, Decimal, str) if lenient_numbers else (int,)

        def check_number(value: Any, field: str) -> None:
            if isinstance(value, bool) or not isinstance(value, accepted):
                raise _refuse(field, _KINDS[kind])
            if isinstance(value, str):
                text_input(value, field, _label(field))
            elif isinstance(value, int) and not MIN_WHOLE <= value <= MAX_WHOLE:
                raise ValidationError(f"{_label(field)} is too large.", field=field)

        return check_number

    def check_instance(value: Any, field: str) -> None:
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise _refuse(field, _KINDS.get(kind, f"a {kind.__name__}"))

    return check_instance


def checker(hint: Any, *, lenient_numbers: bool = False) -> Check | None:
    """The check of a value annotated `hint`; None where any value is taken (Any, a
    callback, a type this check does not know)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if str in args and (int in args or Decimal in args):
            return None  # a number as typed: the domain's number parsers read any value
        return _union(args, lenient_numbers)
    if origin is typing.Literal:
        allowed = args

        def check_literal(value: Any, field: str) -> None:
            if not any(value is a or (type(value) is type(a) and value == a) for a in allowed):
                raise ValidationError(f"{_label(field)} is not one of the choices.", field=field)

        return check_literal
    if origin in (Mapping, dict) and len(args) == 2:
        return _mapping(args, lenient_numbers)
    if origin in (Sequence, Iterable, list, set, frozenset) and len(args) == 1:
        return _collection(args[0], lenient_numbers)
    if origin is tuple:
        return _tuple(args, lenient_numbers)
    if origin is not None or not isinstance(hint, type):
        return None  # Callable[...], a TypeVar, Any
    if hint is Decimal:
        return None  # money and measures: the domain's number parser reads any value
    if hint in _KINDS:
        return _scalar(hint, lenient_numbers=lenient_numbers)
    if issubclass(hint, enum.Enum):
        return _scalar(hint, lenient_numbers=False)
    if dataclasses.is_dataclass(hint):
        return _dataclass(hint)
    return None


def _union(parts: tuple[Any, ...], lenient_numbers: bool) -> Check | None:
    allows_none = type(None) in parts
    checks = [checker(p, lenient_numbers=lenient_numbers) for p in parts if p is not type(None)]
    if any(c is None for c in checks):
        return None
    present = [c for c in checks if c is not None]

    def check_union(value: Any, field: str) -> None:
        if value is None and allows_none:
            return
        refusal: ValidationError | None = None
        for check in present:
            try:
                check(value, field)
                return
            except ValidationError as refused:
                # The refusal of the kind the value is of says most ("contains a NUL").
                if refusal is None or "must be" not in refused.message:
                    refusal = refused
        assert refusal is not None
        raise refusal

    return check_union


def _mapping(args: tuple[Any, ...], lenient_numbers: bool) -> Check:
    check_key, check_value = (checker(a, lenient_numbers=lenient_numbers) for a in args)

    def check_mapping(value: Any, field: str) -> None:
        if not isinstance(value, Mapping):
            raise ValidationError(f"{_label(field)} must be names with values.", field=field)
        for key, item in value.items():
            if check_key is not None:
                check_key(key, field)
            if check_value is not None:
                check_value(item, field)

    return check_mapping


def _collection(item_hint: Any, lenient_numbers: bool) -> Check:
    check_item = checker(item_hint, lenient_numbers=lenient_numbers)

    def check_collection(value: Any, field: str) -> None:
        if isinstance(value, str | list | tuple | set | frozenset):
            if check_item is not None:
                for item in value:
                    check_item(item, field)
        elif not isinstance(value, Iterable) or isinstance(value, Mapping | bytes):
            raise ValidationError(f"{_label(field)} must be a list.", field=field)
        # Other iterables (generators) are read once, by the method itself.

    return check_collection


def _tuple(args: tuple[Any, ...], lenient_numbers: bool) -> Check:
    checks = [checker(a, lenient_numbers=lenient_numbers) for a in args if a is not Ellipsis]

    def check_tuple(value: Any, field: str) -> None:
        if not isinstance(value, tuple | list) or (
            Ellipsis not in args and len(value) != len(args)
        ):
            raise ValidationError(f"{_label(field)} is not complete.", field=field)
        for check, item in zip(checks, value, strict=False):
            if check is not None:
                check(item, field)

    return check_tuple


@functools.cache
def _dataclass(cls: type) -> Check:
    """Its instances only, each field of the kind its annotation says (numbers also as
    text: drafts carry what was typed, and the domain's parsers read numbers)."""
    hints = typing.get_type_hints(cls)
    field_checks = [
        (f.name, check)
        for f in dataclasses.fields(cls)
        if (check := checker(hints[f.name], lenient_numbers=True)) is not None
    ]

    def check_dataclass(value: Any, field: str) -> None:
        if not isinstance(value, cls):
            raise ValidationError(f"{_label(field)} is missing or incomplete.", field=field)
        for name, check in field_checks:
            check(getattr(value, name), name)

    return check_dataclass


@dataclasses.dataclass(frozen=True)
class CheckedInside:
    """Marks a parameter the method checks itself, piece by piece:
    `rows: Annotated[Sequence[SheetRow], CheckedInside("by line")]` lets an import report
    each bad cell on its own line instead of refusing the whole file at the door."""

    how: str


def checked_arguments(function: F) -> F:
    """`function`, refusing arguments that are not of their annotated kind."""
    if getattr(function, "__checked_arguments__", False):
        return function
    signature = inspect.signature(function)
    checks: list[tuple[str, Check]] | None = None

    @functools.wraps(function)
    def entry(*args: Any, **kwargs: Any) -> Any:
        nonlocal checks
        if checks is None:
            checks = _parameter_checks(function, signature)
        bound = signature.bind(*args, **kwargs)
        for name, check in checks:
            if name in bound.arguments:
                check(bound.arguments[name], name)
        return function(*args, **kwargs)

    entry.__checked_arguments__ = True  # type: ignore[attr-defined]
    return typing.cast(F, entry)


def _parameter_checks(
    function: Callable[..., Any], signature: inspect.Signature
) -> list[tuple[str, Check]]:
    hints = typing.get_type_hints(function, include_extras=True)
    found: list[tuple[str, Check]] = []
    for name in signature.parameters:
        if name == "self" or name not in hints:
            continue
        hint = hints[name]
        if typing.get_origin(hint) is typing.Annotated:
            if any(isinstance(extra, CheckedInside) for extra in hint.__metadata__):
                continue
            hint = typing.get_args(hint)[0]
        check = checker(hint)
        if check is None:
            continue
        kind = signature.parameters[name].kind
        if kind is inspect.Parameter.VAR_POSITIONAL:  # *args: each one is of the kind
            check = _each(check, lambda args: args)
        elif kind is inspect.Parameter.VAR_KEYWORD:  # **kwargs: each value is
            check = _each(check, lambda kwargs: kwargs.values())
        found.append((name, check))
    return found


def _each(check: Check, items: Callable[[Any], Iterable[Any]]) -> Check:
    def check_each(value: Any, field: str) -> None:
        for item in items(value):
            check(item, field)

    return check_each


def checked_entry_points(cls: C) -> C:
    """Check the arguments of every public method `cls` defines (see `checked_arguments`)."""
    for name, member in list(vars(cls).items()):
        if not name.startswith("_") and inspect.isfunction(member):
            setattr(cls, name, checked_arguments(member))
    return cls
