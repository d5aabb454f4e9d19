"""Bad input at every service boundary gets the project's own errors, and changes nothing.

Every public method of every service class in erpgo_desktop/services is called with
valid arguments, except one input (a parameter, or a field of a draft, query or line it
is given) which hypothesis replaces with something a person, a file or a careless
caller can hand in: text with NUL characters, numbers in exponent notation (1e27, 1e300),
huge and negative numbers, NaN and Infinity, None and values of the wrong type. The call
may succeed (a negative adjustment is a fine adjustment); when it does not, only an
ErpError may come out, and the database is exactly as it was (a digest of every table).

The inputs are found by introspection: each parameter's annotation says which bad values
fit it, each draft's fields are walked. A new method, or a parameter no rule here can
give a valid value to, fails `test_every_method_has_inputs` naming what is missing.

The import planners get the same values as the cells of a file in
`test_bad_cells_are_reported_by_line`: each bad cell is an error on its own line, and the
good line after it is still checked.

One database for the module; each input gets its own seeded rows (codes, SKUs).
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import importlib
import inspect
import itertools
import pkgutil
import types
import typing
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.engine import Engine

import erpgo_desktop.services as services_package
from erpgo_desktop.db.engine import make_engine, make_session_factory
from erpgo_desktop.domain.catalog import CategoryDraft, ProductDraft, VariantDraft
from erpgo_desktop.domain.customers import CustomerAddresses, CustomerDraft
from erpgo_desktop.domain.inventory import WarehouseDraft
from erpgo_desktop.domain.orders import Address, OrderHeader
from erpgo_desktop.errors import (
    ConfigurationError,
    ErpError,
    ValidationError,
)
from erpgo_desktop.imports import SheetRow
from erpgo_desktop.services import Services, build_services
from erpgo_desktop.services.auth import AuthService, CurrentUser, NewUser
from erpgo_desktop.services.catalog import ProductQuery
from erpgo_desktop.services.customers import CustomerQuery
from erpgo_desktop.services.documents import CompanyInfo, DocumentService
from erpgo_desktop.services.order_list import OrderQuery
from erpgo_desktop.services.orders import NewLine
from erpgo_desktop.services.reports import Report
from erpgo_desktop.services.stock import StockKey
from erpgo_desktop.services.users import RoleRow, UserProfile, UserRow
from tests.conftest import adopt_clone

if TYPE_CHECKING:
    from tests.conftest import ThrowawayDatabases

PASSWORD = "long enough"
START, END = date(2020, 1, 1), date(2029, 12, 31)
ADDRESS = Address("Cy", "Customer", "1 Road", "Town", "1000", "NL")

#: Public methods not called here, and why.
NOT_CALLED: dict[str, str] = {
    # Each call is a whole pg_dump or pg_restore; their path and database name are
    # checked in tests/services/test_backup.py.
    "BackupService.backup": "pg_dump",
    "BackupService.restore": "pg_restore",
    "BackupService.restore_into_new_database": "pg_restore",
}

#: Inputs that are not a person's: who is acting, progress callbacks, the cursors a
#: service hands out with one page to ask for the next, the row an edit started from,
#: and the allocations the confirm dialog builds from the stock rows it was given.
NOT_INPUT = ("CurrentUser", "Cursor")
NOT_INPUT_NAMES = frozenset({"acting", "progress", "after", "expected", "allocations"})


# --- bad values -------------------------------------------------------------------------

_NUL_TEXT = st.builds(
    lambda before, after: f"{before}\x00{after}",
    st.text(max_size=5),
    st.text(max_size=5),
)
_EXPONENT = st.sampled_from(["1e27", "1E300", "-1e27", "9.99e9", "1e-300", "2e2", "1e10"])
_HUGE_INT = st.one_of(
    st.integers(min_value=2**31, max_value=10**400),
    st.integers(min_value=-(10**400), max_value=-1),
)
_NOT_FINITE = st.sampled_from(
    [Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity"), Decimal("-Infinity")]
)
_FLOATS = st.sampled_from([float("nan"), float("inf"), 1e300, -1e300, 0.5])
_WRONG_TYPE = st.sampled_from([None, b"bytes", object(), [1], {"a": 1}])

#: Per base type, what may come in instead of a good value.
BAD: dict[type, st.SearchStrategy[Any]] = {
    str: st.one_of(_NUL_TEXT, _WRONG_TYPE, st.integers(), _NOT_FINITE),
    int: st.one_of(
        _HUGE_INT,
        _EXPONENT,
        _NOT_FINITE,
        _FLOATS,
        _WRONG_TYPE,
        st.sampled_from(["12abc", "", " ", "1\x00", True, Decimal("1.5")]),
        st.decimals(min_value=Decimal("-1e300"), max_value=Decimal("1e300")),
    ),
    Decimal: st.one_of(
        _EXPONENT.map(Decimal),
        _EXPONENT,
        _NOT_FINITE,
        _FLOATS,
        _HUGE_INT,
        _WRONG_TYPE,
        st.sampled_from(["abc", "12.5\x00", "-5", Decimal("-0.01"), Decimal("0.001")]),
        st.decimals(allow_nan=True, allow_infinity=True),
    ),
    uuid.UUID: st.one_of(st.sampled_from(["not-a-uuid", "\x00", 42, -1]), _WRONG_TYPE),
    date: st.one_of(st.sampled_from(["2020-01-01", "\x00", 42, 1e300]), _WRONG_TYPE),
    datetime: st.one_of(st.sampled_from(["2020-01-01", "\x00", 42]), _WRONG_TYPE),
}
BAD[bool] = st.nothing()  # any value is true or false: nothing to refuse


@functools.cache
def bad_values(hint: Any) -> st.SearchStrategy[Any]:
    """Values that do not fit `hint` (without None where None is allowed)."""
    allows_none = False
    choices: list[st.SearchStrategy[Any]] = []
    for part in _union_parts(hint):
        if part is type(None):
            allows_none = True
            continue
        origin = typing.get_origin(part)
        args = typing.get_args(part)
        if origin is typing.Literal or (isinstance(part, type) and issubclass(part, enum.Enum)):
            choices.append(st.sampled_from(["\x00", 42, None]))
        elif origin in (Iterable, Sequence, list, tuple) and args and args[0] is str:
            choices.append(
                st.one_of(
                    st.lists(BAD[str], min_size=1, max_size=2),
                    _NUL_TEXT,
                    st.just(None),
                    st.integers(),
                )
            )
        elif origin in (Mapping, dict) and len(args) == 2:
            key, value = args
            choices.append(
                st.one_of(
                    bad_values(key).filter(_hashable).map(lambda k: {k: "x"}),
                    st.dictionaries(st.just(_placeholder(key)), bad_values(value), min_size=1),
                    st.just(None),
                    st.integers(),
                )
            )
        elif isinstance(part, type) and part in BAD:
            choices.append(BAD[part])
        else:
            raise LookupError(f"no bad values for {part!r}")
    strategy = st.one_of(*choices)
    return strategy.filter(lambda v: v is not None) if allows_none else strategy


def _hashable(value: object) -> bool:
    try:
        hash(value)  # Decimal("sNaN") says it is Hashable, and refuses
    except TypeError:
        return False
    return True


class _Placeholder(str):
    """A key the test replaces with a real one (an order line's id)."""


def _placeholder(key: Any) -> Any:
    return _Placeholder("line") if key is uuid.UUID else "size"


def _union_parts(hint: Any) -> tuple[Any, ...]:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return typing.get_args(hint)
    return (hint,)


# --- the services and the rows they work on -----------------------------------------------


@dataclass(frozen=True)
class Seed:
    n: int
    category: uuid.UUID
    product: uuid.UUID
    variant: uuid.UUID
    warehouse: uuid.UUID
    other_warehouse: uuid.UUID
    customer: uuid.UUID
    role: uuid.UUID
    user: uuid.UUID
    order: uuid.UUID
    line: uuid.UUID


@dataclass
class World:
    engine: Engine
    services: Services
    catalog_service: Any
    auth: AuthService
    documents: DocumentService
    admin: CurrentUser
    counter: Iterator[int]
    fingerprint_sql: str
    #: The fingerprint after the last refusal (nothing changed since), or None.
    known: str | None = None

    def seed(self) -> Seed:
        n = next(self.counter)
        ids = {name: uuid.uuid4() for name in ("category", "product", "variant", "warehouse",
               "other_warehouse", "customer", "role", "user")}  # fmt: skip
        statements = f"""
            INSERT INTO product_categories (id, name, path, level)
                VALUES (:category, 'Category {n}', '/Category {n}', 1);
            INSERT INTO products (id, sku, name, category_id, price, track_inventory)
                VALUES (:product, 'BX-{n}', 'Product {n}', :category, 10, true);
            INSERT INTO product_variants (id, product_id, sku, name, price)
                VALUES (:variant, :product, 'BX-{n}-RED', 'Red', 10);
            INSERT INTO warehouses (id, code, name) VALUES
                (:warehouse, 'B{n}A', 'Warehouse {n} A'), (:other_warehouse, 'B{n}B', 'B');
            INSERT INTO inventory_transactions
                (product_id, warehouse_id, transaction_type, quantity, reason)
                VALUES (:product, :warehouse, 'IN', 50, 'seed');
            INSERT INTO customers (id, first_name, last_name, email)
                VALUES (:customer, 'Cy', 'Customer {n}', 'bcustomer-{n}@example.com');
            INSERT INTO roles (id, name, permissions)
                VALUES (:role, 'brole-{n}', '["orders.read"]');
            INSERT INTO users (id, username, email, password_hash, first_name, last_name)
                VALUES (:user, 'buser-{n}', 'buser-{n}@example.com', 'x', 'User', '{n}');
        """
        with self.engine.begin() as connection:
            for statement in statements.split(";"):
                if statement.strip():
                    connection.execute(text(statement), ids)
        orders = self.services.orders
        order = orders.create_draft(self.admin, ids["customer"], OrderHeader(ADDRESS))
        order = orders.add_line(self.admin, order.id, order.version, ids["product"], 2)
        return Seed(n, **ids, order=order.id, line=order.lines[0].id)

    def fingerprint(self) -> str:
        with self.engine.connect() as connection:
            return str(connection.execute(text(self.fingerprint_sql)).scalar_one())

    def refused_without_change(self, action: Callable[[], object]) -> None:
        """Run `action`: it succeeds, or raises ErpError and the database is unchanged.
        The fingerprint after a refusal is the one before the next call."""
        before = self.known or self.fingerprint()
        self.known = None
        try:
            action()
        except ErpError:
            after = self.fingerprint()
            assert after == before, "a refused call changed the database"
            self.known = after


def _fingerprint_sql(engine: Engine) -> str:
    """One statement: a digest of every table's rows, all tables together."""
    with engine.connect() as connection:
        tables = connection.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
        ).scalars()
        parts = [
            f"SELECT '{t}' || ':' || coalesce(md5(string_agg(x::text, ',' ORDER BY x::text)), '')"
            f' AS digest FROM "{t}" x'
            for t in tables.all()
        ]
    return (
        f"SELECT md5(string_agg(digest, '|' ORDER BY digest)) FROM ({' UNION ALL '.join(parts)}) d"
    )


@pytest.fixture(scope="module")
def world(pg_server: ThrowawayDatabases, template_database: str) -> Iterator[World]:
    url = pg_server.create_database(template=template_database)
    adopt_clone(pg_server.admin_url, url)
    owner = make_engine(url)
    auth = AuthService(make_session_factory(owner))
    auth.create_first_admin(
        username="admin", email="admin@example.com", password=PASSWORD, first_name="A"
    )
    signed_in = auth.sign_in("admin", PASSWORD)  # the administrator's own connection
    services = build_services(signed_in.engine)
    sessions = make_session_factory(signed_in.engine)
    yield World(
        engine=owner,
        services=services,
        catalog_service=services.catalog,
        auth=services.auth,
        documents=DocumentService(sessions, CompanyInfo("Boundaries Ltd")),
        admin=signed_in.user,
        counter=itertools.count(1),
        fingerprint_sql=_fingerprint_sql(owner),
    )
    signed_in.engine.dispose()
    owner.dispose()


# --- every public method, and a valid call of it -------------------------------------------


def service_classes() -> list[type]:
    """Every class named *Service defined in a module of erpgo_desktop.services."""
    found: list[type] = []
    for module_info in pkgutil.iter_modules(services_package.__path__):
        module = importlib.import_module(f"{services_package.__name__}.{module_info.name}")
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if name.endswith("Service") and name != "Service" and cls.__module__ == module.__name__:
                found.append(cls)
    return sorted(found, key=lambda c: c.__name__)


@functools.cache
def public_methods() -> dict[str, Callable[..., Any]]:
    return {
        function.__qualname__: function
        for cls in service_classes()
        for name, function in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_") and function.__qualname__.startswith(cls.__name__ + ".")
    }


def _service(world: World, class_name: str) -> Any:
    if class_name == "ProductCatalogService":
        return world.catalog_service
    if class_name == "DocumentService":
        return world.documents
    if class_name == "AuthService":
        return world.auth
    (found,) = [s for s in vars(world.services).values() if type(s).__name__ == class_name]
    return found


#: A valid value for a parameter (or draft field) by its name, where its type alone does
#: not say which. `m` is the method's qualified name.
Valid = Callable[[World, Seed, str], Any]

_BY_NAME: dict[str, Valid] = {
    "acting": lambda w, s, m: w.admin,
    "category_id": lambda w, s, m: s.category,
    "new_parent_id": lambda w, s, m: None,
    "product_id": lambda w, s, m: s.product,
    "variant_id": lambda w, s, m: s.variant,
    "warehouse_id": lambda w, s, m: s.warehouse,
    "destination_warehouse_id": lambda w, s, m: s.other_warehouse,
    "customer_id": lambda w, s, m: s.customer,
    "order_id": lambda w, s, m: s.order,
    "line_id": lambda w, s, m: s.line,
    "role_id": lambda w, s, m: s.role,
    "user_id": lambda w, s, m: s.user,
    "record_id": lambda w, s, m: s.product,
    "table": lambda w, s, m: "products",
    "key": lambda w, s, m: StockKey(s.product, s.warehouse),
    "source": lambda w, s, m: StockKey(s.product, s.warehouse),
    "quantity": lambda w, s, m: 1,
    "delta": lambda w, s, m: -1,
    "counted": lambda w, s, m: 50,
    "reorder_level": lambda w, s, m: 5,
    "max_stock": lambda w, s, m: None,
    "reason": lambda w, s, m: "damaged",
    "amount": lambda w, s, m: Decimal("1.00"),
    "start": lambda w, s, m: START,
    "end": lambda w, s, m: END,
    "code": lambda w, s, m: f"BX-{s.n}",
    "text": lambda w, s, m: f"BX-{s.n}",
    "name": lambda w, s, m: f"brole-new-{s.n}",
    "description": lambda w, s, m: "described",
    "permissions": lambda w, s, m: ["orders.read"],
    "roles": lambda w, s, m: ["sales"],
    "username": lambda w, s, m: "admin",
    "password": lambda w, s, m: PASSWORD,
    "old_password": lambda w, s, m: PASSWORD,
    "new_password": lambda w, s, m: PASSWORD,
    "email": lambda w, s, m: f"bnew-{s.n}@example.com",
    "first_name": lambda w, s, m: "First",
    "last_name": lambda w, s, m: "Last",
    "limit": lambda w, s, m: 10,
    "offset": lambda w, s, m: 0,
    "after": lambda w, s, m: None,
    "report": lambda w, s, m: Report.CUSTOMER_BALANCES,
    "carrier": lambda w, s, m: "UPS",
    "tracking_number": lambda w, s, m: "1Z",
    "update_existing": lambda w, s, m: False,
    "dry_run": lambda w, s, m: True,
    "expected_version": lambda w, s, m: _version(w, s, m),
    "expected": lambda w, s, m: _expected_row(w, s, m),
    "lines": lambda w, s, m: [NewLine(s.product, 1)] if m.endswith("add_lines") else {s.line: 1},
    "rows": lambda w, s, m: _IMPORT_ROWS[m.rsplit(".", 1)[1]](s),
    "mapping": lambda w, s, m: dict(_IMPORT_MAPPINGS[m.rsplit(".", 1)[1]]),
}

#: A valid value by the parameter's (or field's) type.
_BY_TYPE: dict[type, Valid] = {
    CategoryDraft: lambda w, s, m: CategoryDraft(f"New {s.n}"),
    ProductDraft: lambda w, s, m: ProductDraft(f"BN-{s.n}", "New", s.category, Decimal("9.99")),
    VariantDraft: lambda w, s, m: VariantDraft(f"BX-{s.n}-BLUE", "Blue", Decimal("11.00")),
    CustomerDraft: lambda w, s, m: CustomerDraft("Di", "New", f"bcnew-{s.n}@example.com"),
    WarehouseDraft: lambda w, s, m: WarehouseDraft(f"BN{s.n}", "New"),
    OrderHeader: lambda w, s, m: OrderHeader(ADDRESS, billing_address=ADDRESS),
    Address: lambda w, s, m: ADDRESS,
    CustomerAddresses: lambda w, s, m: CustomerAddresses(billing=ADDRESS, shipping=ADDRESS),
    CustomerQuery: lambda w, s, m: CustomerQuery(),
    OrderQuery: lambda w, s, m: OrderQuery(),
    ProductQuery: lambda w, s, m: ProductQuery(),
    NewUser: lambda w, s, m: NewUser(
        f"bnew-{s.n}", f"bnew-{s.n}@example.com", PASSWORD, "sales", "N"
    ),
    UserProfile: lambda w, s, m: UserProfile(f"bmoved-{s.n}@example.com", "Moved"),
    NewLine: lambda w, s, m: NewLine(s.product, 1),
    StockKey: lambda w, s, m: StockKey(s.product, s.warehouse),
}

_VERSIONED = {
    "category_id": "product_categories", "product_id": "products", "variant_id": "product_variants",
    "warehouse_id": "warehouses", "customer_id": "customers", "order_id": "orders",
}  # fmt: skip


def _version(w: World, s: Seed, method: str) -> int:
    """The current version of the row the method changes (its first id parameter)."""
    parameters = inspect.signature(public_methods()[method]).parameters
    id_name = next(p for p in parameters if p in _VERSIONED)
    row_id = _BY_NAME[id_name](w, s, method)
    with w.engine.connect() as connection:
        version = connection.execute(
            text(f"SELECT version FROM {_VERSIONED[id_name]} WHERE id = :id"), {"id": row_id}
        ).scalar()
    return int(version or 1)


def _expected_row(w: World, s: Seed, method: str) -> UserRow | RoleRow:
    users = w.services.users
    if "role" in method:
        (role,) = [r for r in users.list_roles(w.admin) if r.id == s.role]
        return role
    return users.get_user(w.admin, s.user)


_IMPORT_ROWS: dict[str, Callable[[Seed], list[SheetRow]]] = {
    "import_products": lambda s: [
        SheetRow(2, (f"BI-{s.n}", "Imported", f"/Category {s.n}", "9.50", "1.5"))
    ],
    "import_customers": lambda s: [SheetRow(2, ("Im", "Ported", f"bimp-{s.n}@example.com", "5"))],
    "import_stock_counts": lambda s: [SheetRow(2, (f"BX-{s.n}", f"B{s.n}A", "47", "counted"))],
}
_IMPORT_MAPPINGS: dict[str, dict[str, int | None]] = {
    "import_products": {"sku": 0, "name": 1, "category": 2, "price": 3, "weight": 4},
    "import_customers": {"first_name": 0, "last_name": 1, "email": 2, "credit_limit": 3},
    "import_stock_counts": {"sku": 0, "warehouse": 1, "counted": 2, "note": 3},
}


@functools.cache
def _hints(function: Callable[..., Any]) -> dict[str, Any]:
    return typing.get_type_hints(function)


def _is_not_input(hint: Any) -> bool:
    names = {getattr(p, "__name__", str(p)) for p in _union_parts(hint)}
    return any(marker in name for name in names for marker in NOT_INPUT)


def _dataclass_of(hint: Any) -> type | None:
    for part in _union_parts(hint):
        if dataclasses.is_dataclass(part) and isinstance(part, type):
            return part
    return None


def valid_value(w: World, s: Seed, method: str, name: str, hint: Any, default: Any) -> Any:
    if name in _BY_NAME:
        return _BY_NAME[name](w, s, method)
    if default is not inspect.Parameter.empty:
        return default
    cls = _dataclass_of(hint)
    if cls is not None and cls in _BY_TYPE:
        return _BY_TYPE[cls](w, s, method)
    if type(None) in _union_parts(hint):
        return None
    raise LookupError(f"{method}: no valid value for {name}: {hint}")


Path = tuple[str | int, ...]


def input_paths(method: str) -> list[tuple[Path, Any]]:
    """Every input of `method` that can be poisoned, with its annotation: parameters of a
    plain type, fields of drafts and queries (and of the addresses and lines in them)."""
    function = public_methods()[method]
    hints = _hints(function)
    paths: list[tuple[Path, Any]] = []
    for name in list(inspect.signature(function).parameters)[1:]:
        hint = hints[name]
        if _is_not_input(hint) or name in NOT_INPUT_NAMES or name in ("rows", "mapping"):
            continue  # the import cells have a test of their own
        paths.extend(_paths_of((name,), hint, method))
    return paths


def _paths_of(path: Path, hint: Any, method: str) -> list[tuple[Path, Any]]:
    cls = _dataclass_of(hint)
    if cls is not None:
        if cls not in _BY_TYPE:
            raise LookupError(
                f"{method}: no valid {cls.__name__} to vary {'.'.join(map(str, path))}"
            )
        field_hints = typing.get_type_hints(cls)
        return [
            found
            for f in dataclasses.fields(cls)
            for found in _paths_of((*path, f.name), field_hints[f.name], method)
        ]
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (Sequence, list) and args and _dataclass_of(args[0]) is not None:
        return _paths_of((*path, 0), args[0], method)
    try:
        bad_values(hint)
    except LookupError as missing:
        raise LookupError(f"{method}: {'.'.join(map(str, path))}: {missing}") from None
    if all(p is bool or p is type(None) for p in _union_parts(hint)):
        return []
    return [(path, hint)]


def _replace(value: Any, path: Path, bad: Any) -> Any:
    head, *rest = path
    if not rest:
        if isinstance(head, int):
            return [bad, *value[1:]]
        return dataclasses.replace(value, **{str(head): bad})
    inner = value[head] if isinstance(head, int) else getattr(value, str(head))
    replaced = _replace(inner, tuple(rest), bad)
    if isinstance(head, int):
        return [replaced, *value[1:]]
    return dataclasses.replace(value, **{str(head): replaced})


def _arguments(w: World, s: Seed, method: str) -> dict[str, Any]:
    function = public_methods()[method]
    hints = _hints(function)
    return {
        name: valid_value(w, s, method, name, hints[name], p.default)
        for name, p in list(inspect.signature(function).parameters.items())[1:]
        if name not in ("progress",)
    }


def _with_line_ids(value: Any, s: Seed) -> Any:
    if isinstance(value, dict):
        return {(s.line if isinstance(k, _Placeholder) and k == "line" else k): v
                for k, v in value.items()}  # fmt: skip
    return value


def call(w: World, s: Seed, method: str, path: Path, bad: Any) -> Any:
    arguments = _arguments(w, s, method)
    bad = _with_line_ids(bad, s)
    name, *rest = path
    if rest and arguments[str(name)] is None:
        # An optional record left out by default (a customer's addresses): a valid one to
        # poison a field of.
        hint = _hints(public_methods()[method])[str(name)]
        arguments[str(name)] = _BY_TYPE[_dataclass_of(hint)](w, s, method)
    arguments[str(name)] = _replace(arguments[str(name)], tuple(rest), bad) if rest else bad
    class_name, function_name = method.split(".")
    return getattr(_service(w, class_name), function_name)(**arguments)


# --- the tests ----------------------------------------------------------------------------

CALLED = sorted(set(public_methods()) - NOT_CALLED.keys())


def _cases() -> list[tuple[str, Path, Any]]:
    cases: list[tuple[str, Path, Any]] = []
    for method in CALLED:
        try:
            paths = input_paths(method)
        except LookupError:
            continue  # test_every_method_has_inputs names it
        cases.extend((method, path, hint) for path, hint in paths)
    return cases


CASES = _cases()


def test_every_method_has_inputs() -> None:
    """Every public service method is called here (or said why not), and every input of
    it has a valid value and bad values."""
    assert set(NOT_CALLED) <= set(public_methods()), "NOT_CALLED names a method that is gone"
    missing: list[str] = []
    for method in CALLED:
        try:
            input_paths(method)
            hints = _hints(public_methods()[method])
            for name, p in list(inspect.signature(public_methods()[method]).parameters.items())[1:]:
                if name in NOT_INPUT_NAMES and name not in _BY_NAME:
                    continue
                hint = hints[name]
                if (
                    p.default is inspect.Parameter.empty
                    and not _is_not_input(hint)
                    and name not in _BY_NAME
                    and _dataclass_of(hint) not in _BY_TYPE
                    and type(None) not in _union_parts(hint)
                ):
                    raise LookupError(f"{method}: no valid value for {name}")
        except LookupError as missing_strategy:
            missing.append(str(missing_strategy))
    assert not missing, "inputs without a strategy:\n" + "\n".join(missing)
    assert len({m for m, _, _ in CASES}) >= 80, "hardly any method has an input to vary"


_seeds: dict[str, Seed] = {}


@pytest.mark.parametrize(
    ("method", "path", "hint"),
    CASES,
    ids=[f"{m}:{'.'.join(map(str, p))}" for m, p, _ in CASES],
)
@settings(
    max_examples=3,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_bad_input_is_refused_in_words(
    world: World, method: str, path: Path, hint: Any, data: st.DataObject
) -> None:
    # One set of rows per method: most calls are refused and change nothing.
    if method not in _seeds:
        world.known = None
        _seeds[method] = world.seed()
    seed = _seeds[method]
    bad = data.draw(bad_values(hint), label=".".join(map(str, path)))
    world.refused_without_change(lambda: call(world, seed, method, path, bad))


# --- signing in to a database whose rights are not set up --------------------------------


def _revoke_execute(engine: Engine, function: str) -> None:
    """Take the right to call `function` from everyone, as a database copied or migrated
    without `setup-roles` lacks it."""
    with engine.begin() as connection:
        grantees = connection.execute(
            text(
                "SELECT DISTINCT grantee FROM information_schema.routine_privileges "
                "WHERE routine_name = :f AND privilege_type = 'EXECUTE'"
            ),
            {"f": function},
        ).scalars()
        signature = connection.execute(
            text("SELECT CAST(CAST(:f AS regproc) AS regprocedure)::text"), {"f": function}
        ).scalar_one()
        for grantee in ["PUBLIC", *grantees.all()]:
            role = grantee if grantee == "PUBLIC" else f'"{grantee}"'
            connection.execute(text(f"REVOKE EXECUTE ON FUNCTION {signature} FROM {role}"))


@pytest.mark.parametrize("function", ["erpgo_login_role", "erpgo_sign_in"])
def test_sign_in_without_grants_names_setup_roles(database_url: Any, function: str) -> None:
    """The sign-in role (erpgo_login_role) or the person (erpgo_sign_in) refused a right:
    a ConfigurationError that tells the administrator to run setup-roles."""
    owner = make_engine(database_url)
    try:
        auth = AuthService(make_session_factory(owner))
        auth.create_first_admin(
            username="admin", email="admin@example.com", password=PASSWORD, first_name="A"
        )
        _revoke_execute(owner, function)
        with pytest.raises(ConfigurationError, match="setup-roles"):
            auth.sign_in("admin", PASSWORD)
    finally:
        owner.dispose()


def test_sign_in_refuses_nul_and_wrong_types_in_words(world: World) -> None:
    before = world.fingerprint()
    for username, password in [
        ("ad\x00min", PASSWORD),
        (None, PASSWORD),
        ("admin", None),
        (42, PASSWORD),
        ("admin", PASSWORD + "\x00"),
    ]:
        with pytest.raises(ValidationError):
            world.auth.sign_in(username, password)  # type: ignore[arg-type]
    assert world.fingerprint() == before  # and no wrong password was counted


# --- the import planners: a bad cell is an error on its line ------------------------------

_BAD_CELLS = st.one_of(
    _NUL_TEXT,
    _EXPONENT,
    _HUGE_INT.map(str),
    st.sampled_from(["NaN", "Infinity", "-1", "-0.01", "1e27", "1" * 400, "1,5e3"]),
    _WRONG_TYPE,
    st.integers(),
    _NOT_FINITE,
)

#: Per import: the columns of a row, and three rows: good, to be spoiled, good.
_IMPORTS: dict[str, tuple[tuple[str, ...], Callable[[Seed], list[tuple[Any, ...]]]]] = {
    "import_products": (
        ("sku", "name", "category", "price", "weight", "min_stock_level", "description"),
        lambda s: [
            (f"BI-{s.n}-{i}", "Imported", f"/Category {s.n}", "9.50", "1.5", "3", "d")
            for i in range(3)
        ],
    ),
    "import_customers": (
        ("first_name", "last_name", "email", "credit_limit", "notes"),
        lambda s: [("Im", "Ported", f"bimp-{s.n}-{i}@example.com", "5", "n") for i in range(3)],
    ),
    "import_stock_counts": (
        ("sku", "warehouse", "counted", "note"),
        lambda s: (
            [(sku, f"B{s.n}A", "47", "counted") for sku in (f"BX-{s.n}", f"BX-{s.n}-RED")]
            + [(f"BX-{s.n}", f"B{s.n}B", "3", "counted")]
        ),
    ),
}


@pytest.mark.parametrize("importer", sorted(_IMPORTS))
@settings(
    max_examples=20,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_bad_cells_are_reported_by_line(world: World, importer: str, data: st.DataObject) -> None:
    """A dry run over three lines, the middle one with a bad cell: the cell is an error
    on line 3 (or, for a blank-like value, no error), lines 2 and 4 are checked as
    usual, nothing is raised and nothing is written. The real import of the same rows
    writes nothing when line 3 is refused."""
    if importer not in _seeds:
        world.known = None
        _seeds[importer] = world.seed()
    seed = _seeds[importer]
    columns, make_rows = _IMPORTS[importer]
    cells = [list(row) for row in make_rows(seed)]
    column = data.draw(st.sampled_from(range(len(columns))), label="column")
    cells[1][column] = data.draw(_BAD_CELLS, label=columns[column])
    rows = [SheetRow(line, tuple(row)) for line, row in enumerate(cells, start=2)]
    mapping = {name: i for i, name in enumerate(columns)}
    run = getattr(world.services.imports, importer)

    before = world.known or world.fingerprint()
    world.known = None
    checked = run(world.admin, rows, mapping, update_existing=False, dry_run=True)
    assert world.fingerprint() == before
    assert {e.line for e in checked.errors} <= {3}, checked.errors
    assert all(e.field for e in checked.errors), checked.errors
    good = checked.created + checked.updated + checked.unchanged
    assert good >= 2, checked  # lines 2 and 4 were still checked

    if checked.errors:
        imported = run(world.admin, rows, mapping, update_existing=False, dry_run=False)
        assert imported.errors == checked.errors
        assert world.fingerprint() == before
    world.known = before
