"""A snapshot of what a migration leaves in the `public` schema, read from the catalogs.

Every object is described the way PostgreSQL itself renders it (format_type,
pg_get_expr, pg_get_constraintdef, pg_get_indexdef, pg_get_triggerdef), so two
snapshots compare equal exactly when the schemas are the same. Objects that belong to
an extension (pg_trgm's and btree_gin's functions, operator classes and types) are left
out: they are the extension's, not the migrations'.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

# (data_type, character_maximum_length, numeric_precision, numeric_scale, is_nullable,
#  column_default) as information_schema.columns shows them; is_nullable is a bool.
Column = tuple[str, int | None, int | None, int | None, bool, str | None]

_NOT_AN_EXTENSION_MEMBER = """
    NOT EXISTS (
        SELECT 1 FROM pg_depend d
        WHERE d.classid = '{catalog}'::regclass AND d.objid = {alias}.oid AND d.deptype = 'e'
    )
"""

COLUMNS = """
SELECT table_name, column_name, data_type, character_maximum_length, numeric_precision,
       numeric_scale, is_nullable = 'YES', column_default
FROM information_schema.columns
WHERE table_schema = 'public'
ORDER BY table_name, ordinal_position
"""

GENERATED = """
SELECT table_name, column_name, generation_expression
FROM information_schema.columns
WHERE table_schema = 'public' AND is_generated = 'ALWAYS'
"""

RELATIONS = f"""
SELECT c.relname, c.relkind
FROM pg_class c
WHERE c.relnamespace = 'public'::regnamespace
  AND {_NOT_AN_EXTENSION_MEMBER.format(catalog="pg_class", alias="c")}
"""

# NOT NULL is read from the columns: PostgreSQL 18 also lists it here (contype 'n'),
# older servers do not, and the schema is the same either way.
CONSTRAINTS = """
SELECT cl.relname, co.conname, co.contype, pg_get_constraintdef(co.oid),
       co.confdeltype, co.confupdtype, ref.relname
FROM pg_constraint co
JOIN pg_class cl ON cl.oid = co.conrelid
LEFT JOIN pg_class ref ON ref.oid = co.confrelid
WHERE co.connamespace = 'public'::regnamespace AND co.contype IN ('p', 'u', 'f', 'c', 'x')
"""

INDEXES = """
SELECT indexname, tablename, indexdef FROM pg_indexes WHERE schemaname = 'public'
"""

TRIGGERS = """
SELECT c.relname, t.tgname, pg_get_triggerdef(t.oid), t.tgenabled
FROM pg_trigger t
JOIN pg_class c ON c.oid = t.tgrelid
WHERE c.relnamespace = 'public'::regnamespace AND NOT t.tgisinternal
"""

FUNCTIONS = f"""
SELECT p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
       l.lanname, pg_get_function_result(p.oid), p.prosrc
FROM pg_proc p
JOIN pg_language l ON l.oid = p.prolang
WHERE p.pronamespace = 'public'::regnamespace
  AND {_NOT_AN_EXTENSION_MEMBER.format(catalog="pg_proc", alias="p")}
"""

TYPES = f"""
SELECT t.typname, t.typtype
FROM pg_type t
WHERE t.typnamespace = 'public'::regnamespace
  AND t.typrelid = 0 AND t.typcategory <> 'A'
  AND {_NOT_AN_EXTENSION_MEMBER.format(catalog="pg_type", alias="t")}
"""

EXTENSIONS = "SELECT extname FROM pg_extension"


@dataclass(frozen=True)
class Constraint:
    table: str
    type: str  # p, u, f, c or x, as pg_constraint.contype
    definition: str  # pg_get_constraintdef
    on_delete: str | None = None  # pg_constraint.confdeltype for foreign keys
    references: str | None = None  # the referenced table for foreign keys


@dataclass
class Snapshot:
    columns: dict[str, dict[str, Column]] = field(default_factory=dict)
    generated: dict[tuple[str, str], str] = field(default_factory=dict)
    relations: dict[str, str] = field(default_factory=dict)
    constraints: dict[str, Constraint] = field(default_factory=dict)
    indexes: dict[str, tuple[str, str]] = field(default_factory=dict)  # name: (table, def)
    triggers: dict[str, tuple[str, str]] = field(default_factory=dict)  # name: (table, def)
    functions: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)
    extensions: frozenset[str] = frozenset()

    @property
    def tables(self) -> set[str]:
        return {name for name, kind in self.relations.items() if kind in ("r", "p")}

    def as_dict(self) -> dict[str, Any]:
        return {
            "columns": self.columns,
            "generated": self.generated,
            "relations": self.relations,
            "constraints": self.constraints,
            "indexes": self.indexes,
            "triggers": self.triggers,
            "functions": self.functions,
            "types": self.types,
            "extensions": self.extensions,
        }


def strip_schema(definition: str) -> str:
    """`ON public.users` -> `ON users`: the snapshot is of one schema anyway."""
    return re.sub(r"\bpublic\.", "", definition)


def normalize_sql(body: str) -> str:
    """Collapse whitespace, so a function body compares by its tokens' layout only."""
    return " ".join(body.split())


def snapshot(connection: Connection) -> Snapshot:
    snap = Snapshot()
    for table, column, *description in connection.execute(text(COLUMNS)):
        data_type, length, precision, scale, nullable, default = description
        snap.columns.setdefault(table, {})[column] = (
            data_type,
            length,
            precision,
            scale,
            nullable,
            default,
        )
    for table, column, expression in connection.execute(text(GENERATED)):
        snap.generated[(table, column)] = expression
    snap.relations = {name: kind for name, kind in connection.execute(text(RELATIONS))}
    for table, name, kind, definition, on_delete, _on_update, referenced in connection.execute(
        text(CONSTRAINTS)
    ):
        snap.constraints[name] = Constraint(
            table=table,
            type=kind,
            definition=definition,
            on_delete=on_delete if kind == "f" else None,
            references=referenced,
        )
    for name, table, definition in connection.execute(text(INDEXES)):
        snap.indexes[name] = (table, strip_schema(definition))
    for table, name, definition, enabled in connection.execute(text(TRIGGERS)):
        assert enabled == "O", f"trigger {name} is not enabled ({enabled})"
        snap.triggers[name] = (table, strip_schema(definition))
    for signature, language, result, body in connection.execute(text(FUNCTIONS)):
        snap.functions[signature] = (language, result, normalize_sql(body))
    snap.types = {name: kind for name, kind in connection.execute(text(TYPES))}
    snap.extensions = frozenset(connection.execute(text(EXTENSIONS)).scalars())
    return snap


def row_counts(connection: Connection, tables: set[str]) -> dict[str, int]:
    return {
        table: connection.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one()
        for table in sorted(tables)
    }
