"""Warehouses: create, edit with conflict detection, deactivate, reactivate, delete, list.

A warehouse that stock rows, ledger rows or reservations refer to is never deleted: the
schema would cascade the delete into the stock and its history. Deleting such a
warehouse deactivates it instead (business-rules.md: soft delete). Deactivating is
refused while the warehouse holds stock reserved for confirmed orders, which expect to
ship from it.

Edits carry the version they were loaded at; the row is locked (FOR UPDATE) before the
version is compared, so two saves of the same version cannot both pass.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from erpgo_desktop.db.models import (
    InventoryTransaction,
    ProductInventory,
    StockReservation,
    User,
    VariantInventory,
    Warehouse,
)
from erpgo_desktop.domain import inventory as rules
from erpgo_desktop.domain import permissions as perms
from erpgo_desktop.domain.inventory import WarehouseDraft
from erpgo_desktop.errors import ConflictError, NotFoundError, ValidationError
from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.services.base import Service, require

__all__ = ["WarehouseDraft", "WarehouseRemoval", "WarehouseRow", "WarehouseService"]


@dataclass(frozen=True)
class WarehouseRow:
    id: uuid.UUID
    code: str
    name: str
    address: str | None
    city: str | None
    state: str | None
    country: str | None
    postal_code: str | None
    phone: str | None
    email: str | None
    manager_id: uuid.UUID | None
    manager_name: str | None
    is_active: bool
    version: int
    created_at: datetime
    updated_at: datetime
    updated_by: str | None  # the username of who saved last

    def draft(self) -> WarehouseDraft:
        """The editable fields, to start an edit from."""
        return WarehouseDraft(
            code=self.code,
            name=self.name,
            address=self.address,
            city=self.city,
            state=self.state,
            country=self.country,
            postal_code=self.postal_code,
            phone=self.phone,
            email=self.email,
            manager_id=self.manager_id,
        )


class WarehouseRemoval(enum.Enum):
    DELETED = "deleted"
    #: Something refers to it: it was deactivated instead.
    DEACTIVATED = "deactivated"


class WarehouseService(Service):
    def create(self, acting: CurrentUser, draft: WarehouseDraft) -> WarehouseRow:
        require(acting, perms.WAREHOUSES_WRITE)
        clean = rules.check_warehouse(draft)

        def work(session: Session) -> WarehouseRow:
            _check_code_free(session, clean.code, None)
            _check_manager(session, clean.manager_id)
            warehouse = Warehouse(**_fields(clean), is_active=True, updated_by=acting.id)
            session.add(warehouse)
            session.flush()
            return _row(session, warehouse.id)

        return self._write(work)

    def update(
        self,
        acting: CurrentUser,
        warehouse_id: uuid.UUID,
        draft: WarehouseDraft,
        expected_version: int,
    ) -> WarehouseRow:
        require(acting, perms.WAREHOUSES_WRITE)
        clean = rules.check_warehouse(draft)

        def work(session: Session) -> WarehouseRow:
            warehouse = _load_for_edit(session, warehouse_id, expected_version)
            if clean.code != warehouse.code:
                _check_code_free(session, clean.code, warehouse_id)
            if clean.manager_id != warehouse.manager_id:
                _check_manager(session, clean.manager_id)
            for name, value in _fields(clean).items():
                setattr(warehouse, name, value)
            warehouse.updated_by = acting.id
            session.flush()
            return _row(session, warehouse_id)

        return self._write(work)

    def deactivate(
        self, acting: CurrentUser, warehouse_id: uuid.UUID, expected_version: int
    ) -> WarehouseRow:
        """Take a warehouse out of use (no receipts or transfers); its stock stays counted.
        Refused while it holds stock reserved for orders. Already inactive: no change."""
        require(acting, perms.WAREHOUSES_WRITE)

        def work(session: Session) -> WarehouseRow:
            warehouse = _load_for_edit(session, warehouse_id, expected_version)
            if warehouse.is_active:
                _deactivate(session, warehouse, acting.id)
            return _row(session, warehouse_id)

        return self._write(work)

    def reactivate(
        self, acting: CurrentUser, warehouse_id: uuid.UUID, expected_version: int
    ) -> WarehouseRow:
        require(acting, perms.WAREHOUSES_WRITE)

        def work(session: Session) -> WarehouseRow:
            warehouse = _load_for_edit(session, warehouse_id, expected_version)
            if not warehouse.is_active:
                warehouse.is_active = True
                warehouse.updated_by = acting.id
                session.flush()
            return _row(session, warehouse_id)

        return self._write(work)

    def delete(
        self, acting: CurrentUser, warehouse_id: uuid.UUID, expected_version: int
    ) -> WarehouseRemoval:
        """Delete a warehouse nothing refers to; deactivate one that stock, the ledger or
        reservations refer to (see `deactivate` for when that is refused)."""
        require(acting, perms.WAREHOUSES_WRITE)

        def work(session: Session) -> WarehouseRemoval:
            # FOR UPDATE conflicts with the KEY SHARE lock an insert of a stock or ledger
            # row takes on its warehouse: none can slip in between the check and the delete.
            warehouse = _load_for_edit(session, warehouse_id, expected_version)
            if not _referenced(session, warehouse_id):
                try:
                    with session.begin_nested():
                        session.delete(warehouse)
                        session.flush()
                    return WarehouseRemoval.DELETED
                except IntegrityError:
                    # A reference this service does not know of (RESTRICT): keep the row.
                    session.expire_all()
                    warehouse = _load_for_edit(session, warehouse_id, expected_version)
            if warehouse.is_active:
                _deactivate(session, warehouse, acting.id)
            return WarehouseRemoval.DEACTIVATED

        return self._write(work)

    def get(self, acting: CurrentUser, warehouse_id: uuid.UUID) -> WarehouseRow:
        require(acting, perms.INVENTORY_READ)
        return self._read(lambda session: _row(session, warehouse_id))

    def list_warehouses(
        self, acting: CurrentUser, *, include_inactive: bool = True
    ) -> tuple[WarehouseRow, ...]:
        """Every warehouse (a few hundred at most) by code; active ones only on request."""
        require(acting, perms.INVENTORY_READ)

        def work(session: Session) -> tuple[WarehouseRow, ...]:
            statement = _select_rows().order_by(Warehouse.code)
            if not include_inactive:
                statement = statement.where(Warehouse.is_active.is_(True))
            return tuple(_to_row(record) for record in session.execute(statement))

        return self._read(work)


# -- helpers -----------------------------------------------------------------------------


def _fields(draft: WarehouseDraft) -> dict[str, object]:
    return {
        "code": draft.code,
        "name": draft.name,
        "address": draft.address,
        "city": draft.city,
        "state": draft.state,
        "country": draft.country,
        "postal_code": draft.postal_code,
        "phone": draft.phone,
        "email": draft.email,
        "manager_id": draft.manager_id,
    }


def _check_code_free(session: Session, code: str, own_id: uuid.UUID | None) -> None:
    taken = session.scalar(select(Warehouse.id).where(Warehouse.code == code))
    if taken is not None and taken != own_id:
        raise ConflictError(f"Another warehouse already has the code {code}.", field="code")


def _check_manager(session: Session, manager_id: uuid.UUID | None) -> None:
    if manager_id is None:
        return
    manager = session.execute(
        select(User.username, User.is_active).where(User.id == manager_id)
    ).one_or_none()
    if manager is None:
        raise NotFoundError("That user does not exist (any more).", field="manager")
    if not manager.is_active:
        raise ValidationError(
            f"User {manager.username} is disabled and cannot manage a warehouse.",
            field="manager",
        )


def _load_for_edit(session: Session, warehouse_id: uuid.UUID, expected_version: int) -> Warehouse:
    """The warehouse locked for this transaction, or ConflictError when it has changed
    since the version the edit started from."""
    warehouse = session.get(Warehouse, warehouse_id, with_for_update=True)
    if warehouse is None:
        raise NotFoundError("That warehouse does not exist (any more).", field="warehouse")
    if warehouse.version != expected_version:
        current = _row(session, warehouse_id)
        who = current.updated_by or "someone"
        when = current.updated_at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
        raise ConflictError(
            f"Warehouse {current.code} was changed by {who} at {when} after you opened it; "
            "nothing was saved. Compare with the current version and try again.",
            current=current,
        )
    return warehouse


def _deactivate(session: Session, warehouse: Warehouse, user_id: uuid.UUID) -> None:
    reserved = sum(
        session.scalar(
            select(func.coalesce(func.sum(table.quantity_reserved), 0)).where(
                table.warehouse_id == warehouse.id
            )
        )
        or 0
        for table in (ProductInventory, VariantInventory)
    )
    if reserved:
        raise ValidationError(
            f"Warehouse {warehouse.code} holds {reserved:,} units reserved for confirmed "
            "orders; ship or cancel those orders before deactivating it.",
            field="is_active",
        )
    warehouse.is_active = False
    warehouse.updated_by = user_id
    session.flush()


def _referenced(session: Session, warehouse_id: uuid.UUID) -> bool:
    return any(
        session.scalar(select(exists().where(column == warehouse_id)))
        for column in (
            ProductInventory.warehouse_id,
            VariantInventory.warehouse_id,
            InventoryTransaction.warehouse_id,
            StockReservation.warehouse_id,
        )
    )


_Manager = aliased(User)
_Editor = aliased(User)


def _select_rows() -> Select[*tuple[Any, ...]]:
    manager_name = func.trim(_Manager.first_name + " " + _Manager.last_name)
    return (
        select(
            Warehouse.id,
            Warehouse.code,
            Warehouse.name,
            Warehouse.address,
            Warehouse.city,
            Warehouse.state,
            Warehouse.country,
            Warehouse.postal_code,
            Warehouse.phone,
            Warehouse.email,
            Warehouse.manager_id,
            manager_name.label("manager_name"),
            Warehouse.is_active,
            Warehouse.version,
            Warehouse.created_at,
            Warehouse.updated_at,
            _Editor.username.label("updated_by"),
        )
        .outerjoin(_Manager, _Manager.id == Warehouse.manager_id)
        .outerjoin(_Editor, _Editor.id == Warehouse.updated_by)
    )


def _to_row(record: Row[Any]) -> WarehouseRow:
    values = dict(record._mapping)
    values["is_active"] = bool(values["is_active"])
    return WarehouseRow(**values)


def _row(session: Session, warehouse_id: uuid.UUID) -> WarehouseRow:
    record = session.execute(_select_rows().where(Warehouse.id == warehouse_id)).one_or_none()
    if record is None:
        raise NotFoundError("That warehouse does not exist (any more).", field="warehouse")
    return _to_row(record)
