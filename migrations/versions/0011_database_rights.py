"""Rights kept by PostgreSQL: what must hold whoever connects, with whatever program.

Each person signs in as their own login role; application roles are NOLOGIN group roles
that are members of one NOLOGIN role per permission, which holds that permission's table
grants (services/security.py makes the roles and grants from domain/permissions.py). This
revision adds what the database itself needs for that:

- erpgo_security: the names of the roles this database made (a prefix for new ones, the
  role every person is a member of, the role that owns the functions below), and
  erpgo_permission_roles: the role holding each permission. Names are stored, not
  derived, so a copy of the database (a restore, a test's clone) keeps using them.
- roles.db_role: the group role of each application role.
- erpgo_may(permission): whether the person connected (session_user) holds a permission;
  the schema's owner and superusers hold every one.
- The stock ledger writes the stock: inserting inventory_transactions rows adds their
  quantities to product_inventory / variant_inventory (stock_apply_ledger, one statement
  per insert). Nobody is granted to change on-hand quantities directly, so on hand never
  moves without its ledger row, and ledger rows can be neither changed nor deleted.
- Orders follow the state machine of the business rules, and each status is reached only
  with the permission it needs (order_status_guard).
- Sign-in bookkeeping (lock after five wrong passwords, last sign-in; the schema revision
  for a workstation's connection test), and user and role administration, as SECURITY
  DEFINER functions: people may not touch users, roles or memberships themselves.
  Passwords arrive as SCRAM verifiers made on the client, never in clear text.
- The trigger and helper functions that write tables the person may not write (stock
  totals, dashboard summaries, status history, document numbers) run as their owner.

Every SECURITY DEFINER function pins search_path and is owned, after `setup-roles`, by the
NOLOGIN role erpgo_security.definer_role.

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Functions written before this revision that write tables the person firing them may
#: not write: they run as their owner from now on.
RUN_AS_OWNER = (
    "dashboard_fold()",
    "dashboard_line_changed()",
    "dashboard_order_changed()",
    "dashboard_order_lines(orders, integer)",
    "dashboard_product_changed()",
    "dashboard_product_stock_changed()",
    "dashboard_product_stock_value(products, integer, boolean)",
    "dashboard_variant_changed()",
    "dashboard_variant_stock_changed()",
    "dashboard_variant_value(product_variants, integer)",
    "next_document_number(character varying, integer)",
    "product_min_level_changed()",
    "record_order_status()",
    "update_product_stock()",
    "update_product_stock_after_delete()",
    "update_variant_stock()",
    "variant_min_level_changed()",
)

DEFINER = "SECURITY DEFINER SET search_path = pg_catalog, public"

UPGRADE = f"""
CREATE TABLE erpgo_security (
    singleton BOOLEAN PRIMARY KEY DEFAULT true CHECK (singleton),
    role_prefix VARCHAR(12) NOT NULL,
    person_role VARCHAR(63) NOT NULL,
    definer_role VARCHAR(63) NOT NULL,
    -- The database the roles were made for: a copy (a restore, a clone) makes its own.
    database_oid OID NOT NULL
);
CREATE TABLE erpgo_permission_roles (
    permission VARCHAR(100) PRIMARY KEY,
    role_name VARCHAR(63) NOT NULL UNIQUE
);
ALTER TABLE roles ADD COLUMN db_role VARCHAR(63);
ALTER TABLE roles ADD CONSTRAINT roles_db_role_key UNIQUE (db_role);

-- The schema's owner and superusers maintain the database: they hold every permission.
-- PL/pgSQL rather than SQL: a SECURITY DEFINER SQL function is planned again at every
-- call, and the order trigger asks at every change of status.
CREATE FUNCTION erpgo_is_maintainer() RETURNS BOOLEAN LANGUAGE plpgsql STABLE {DEFINER} AS $$
BEGIN
    RETURN pg_has_role(session_user,
        (SELECT relowner FROM pg_class WHERE oid = 'public.users'::regclass), 'USAGE');
END $$;

CREATE FUNCTION erpgo_may(wanted TEXT) RETURNS BOOLEAN LANGUAGE plpgsql STABLE {DEFINER} AS $$
BEGIN
    RETURN erpgo_is_maintainer() OR coalesce((
        SELECT pg_has_role(session_user, r.oid, 'USAGE')
        FROM erpgo_permission_roles p JOIN pg_roles r ON r.rolname = p.role_name
        WHERE p.permission = wanted), false);
END $$;

CREATE FUNCTION erpgo_require(wanted TEXT) RETURNS VOID LANGUAGE plpgsql STABLE {DEFINER} AS $$
BEGIN
    IF NOT erpgo_may(wanted) THEN
        RAISE EXCEPTION 'permission denied: this needs the permission %', quote_literal(wanted)
            USING ERRCODE = 'insufficient_privilege';
    END IF;
END $$;

-- Stock follows its ledger -------------------------------------------------------------
CREATE FUNCTION stock_apply_ledger() RETURNS TRIGGER LANGUAGE plpgsql {DEFINER} AS $$
BEGIN
    -- Update first, insert what is missing after: a CHECK constraint is tried on the row
    -- an INSERT ... ON CONFLICT proposes before the conflict is found, so a withdrawal
    -- could never go through an upsert.
    WITH moved AS (
        SELECT product_id, warehouse_id, sum(quantity) AS quantity,
               (array_agg(created_by))[1] AS moved_by
        FROM ledger_rows WHERE variant_id IS NULL GROUP BY product_id, warehouse_id
    ), updated AS (
        UPDATE product_inventory stock
        SET quantity_available = stock.quantity_available + moved.quantity,
            last_updated_at = now(), updated_by = moved.moved_by
        FROM moved
        WHERE stock.product_id = moved.product_id AND stock.warehouse_id = moved.warehouse_id
        RETURNING stock.product_id, stock.warehouse_id
    )
    INSERT INTO product_inventory
        (product_id, warehouse_id, quantity_available, last_updated_at, updated_by)
    SELECT product_id, warehouse_id, quantity, now(), moved_by FROM moved
    WHERE NOT EXISTS (SELECT FROM updated WHERE updated.product_id = moved.product_id
                      AND updated.warehouse_id = moved.warehouse_id);
    WITH moved AS (
        SELECT variant_id, warehouse_id, sum(quantity) AS quantity,
               (array_agg(created_by))[1] AS moved_by
        FROM ledger_rows WHERE variant_id IS NOT NULL GROUP BY variant_id, warehouse_id
    ), updated AS (
        UPDATE variant_inventory stock
        SET quantity_available = stock.quantity_available + moved.quantity,
            last_updated_at = now(), updated_by = moved.moved_by
        FROM moved
        WHERE stock.variant_id = moved.variant_id AND stock.warehouse_id = moved.warehouse_id
        RETURNING stock.variant_id, stock.warehouse_id
    )
    INSERT INTO variant_inventory
        (variant_id, warehouse_id, quantity_available, last_updated_at, updated_by)
    SELECT variant_id, warehouse_id, quantity, now(), moved_by FROM moved
    WHERE NOT EXISTS (SELECT FROM updated WHERE updated.variant_id = moved.variant_id
                      AND updated.warehouse_id = moved.warehouse_id);
    RETURN NULL;
END $$;
CREATE TRIGGER stock_apply_ledger AFTER INSERT ON inventory_transactions
    REFERENCING NEW TABLE AS ledger_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stock_apply_ledger();

CREATE FUNCTION ledger_kept_as_written() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    -- Deeper than 1: a product or warehouse being deleted takes its ledger with it. The
    -- schema's owner may alter the table anyway: maintenance (and tests that backdate
    -- rows) is theirs.
    IF (pg_trigger_depth() > 1 AND TG_OP = 'DELETE') OR erpgo_is_maintainer() THEN
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    RAISE EXCEPTION 'The stock ledger is kept as written: its rows cannot be changed or deleted.'
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER ledger_kept_as_written BEFORE UPDATE OR DELETE ON inventory_transactions
    FOR EACH ROW EXECUTE FUNCTION ledger_kept_as_written();

-- Orders follow their state machine ----------------------------------------------------
CREATE FUNCTION order_status_guard() RETURNS TRIGGER LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
    allowed TEXT[];
    needed TEXT[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.status NOT IN ('DRAFT', 'PENDING') AND NOT erpgo_is_maintainer() THEN
            RAISE EXCEPTION 'A new order starts as DRAFT or PENDING, not %.', NEW.status
                USING ERRCODE = 'check_violation', CONSTRAINT = 'order_status_transition';
        END IF;
        RETURN NEW;
    END IF;
    IF NEW.status IS NOT DISTINCT FROM OLD.status THEN
        RETURN NEW;
    END IF;
    allowed := CASE OLD.status
        WHEN 'DRAFT' THEN ARRAY['PENDING', 'CANCELLED']
        WHEN 'PENDING' THEN ARRAY['CONFIRMED', 'CANCELLED', 'ON_HOLD']
        WHEN 'CONFIRMED' THEN ARRAY['PROCESSING', 'CANCELLED', 'ON_HOLD']
        WHEN 'PROCESSING' THEN ARRAY['SHIPPED', 'PARTIALLY_SHIPPED', 'CANCELLED', 'ON_HOLD']
        WHEN 'PARTIALLY_SHIPPED' THEN ARRAY['SHIPPED', 'PROCESSING', 'CANCELLED', 'ON_HOLD']
        WHEN 'SHIPPED' THEN ARRAY['DELIVERED', 'RETURNED', 'ON_HOLD']
        WHEN 'DELIVERED' THEN ARRAY['RETURNED', 'REFUNDED']
        WHEN 'ON_HOLD' THEN ARRAY['PENDING', 'CONFIRMED', 'PROCESSING', 'CANCELLED']
        WHEN 'CANCELLED' THEN ARRAY['REFUNDED']
        WHEN 'RETURNED' THEN ARRAY['REFUNDED']
        ELSE ARRAY[]::TEXT[]
    END;
    IF NOT NEW.status = ANY(allowed) THEN
        RAISE EXCEPTION 'An order cannot go from % to %.', OLD.status, NEW.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'order_status_transition';
    END IF;
    needed := CASE
        WHEN NEW.status = 'CANCELLED' THEN ARRAY['orders.cancel']
        -- Holding and lifting a hold are the confirmer's.
        WHEN NEW.status = 'ON_HOLD' OR OLD.status = 'ON_HOLD' THEN ARRAY['orders.confirm']
        WHEN NEW.status = 'PENDING' THEN ARRAY['orders.create']
        WHEN NEW.status = 'CONFIRMED' THEN ARRAY['orders.confirm']
        WHEN NEW.status IN ('PROCESSING', 'SHIPPED', 'PARTIALLY_SHIPPED', 'DELIVERED')
            THEN ARRAY['orders.ship']
        WHEN NEW.status = 'RETURNED' THEN ARRAY['orders.return']
        WHEN NEW.status = 'REFUNDED' THEN ARRAY['orders.payment']
    END;
    IF NOT EXISTS (SELECT FROM unnest(needed) AS permission WHERE erpgo_may(permission)) THEN
        RAISE EXCEPTION 'permission denied: an order goes from % to % only with %',
            OLD.status, NEW.status,
            (SELECT string_agg(quote_literal(permission), ' or ') FROM unnest(needed) permission)
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    -- Confirming for the first time takes the order's unpaid total onto its customer's
    -- balance (the services add it after this): over a credit limit only with an override.
    IF NEW.status = 'CONFIRMED' AND (OLD.status = 'PENDING'
            OR (OLD.status = 'ON_HOLD' AND OLD.previous_status = 'PENDING'))
            AND NOT erpgo_may('customers.credit_override')
            AND EXISTS (SELECT FROM customers c WHERE c.id = NEW.customer_id
                        AND c.credit_limit > 0
                        AND coalesce(c.balance, 0) + NEW.total_amount
                            - coalesce(NEW.paid_amount, 0) > c.credit_limit) THEN
        RAISE EXCEPTION 'permission denied: confirming order % takes its customer over the '
            'credit limit, which needs the permission ''customers.credit_override''',
            NEW.order_number
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER order_status_guard BEFORE INSERT OR UPDATE OF status ON orders
    FOR EACH ROW EXECUTE FUNCTION order_status_guard();

-- A role name of at most 63 characters: `wanted`, or its start and a digest when longer.
CREATE FUNCTION erpgo_role_name(wanted TEXT) RETURNS TEXT LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN octet_length(wanted) <= 63 THEN wanted
        ELSE left(wanted, 54) || '~' || left(md5(wanted), 8) END
$$;

-- Holds rows as read (FOR SHARE) until the end of the transaction, for a person who may
-- read them but not change them: a stock movement keeps its warehouse from being
-- deactivated or deleted meanwhile. (FOR SHARE itself takes UPDATE on the table.)
CREATE FUNCTION erpgo_share_rows(target REGCLASS, ids UUID[]) RETURNS VOID
LANGUAGE plpgsql {DEFINER} AS $$
BEGIN
    IF NOT has_table_privilege(session_user, target, 'SELECT') THEN
        RAISE EXCEPTION 'permission denied for table %', target
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    EXECUTE format('SELECT 1 FROM %s WHERE id = ANY($1) ORDER BY id FOR SHARE', target)
        USING ids;
END $$;

-- Signing in ---------------------------------------------------------------------------
CREATE FUNCTION erpgo_has_users() RETURNS BOOLEAN LANGUAGE sql STABLE {DEFINER} AS $$
    SELECT EXISTS (SELECT FROM users)
$$;

-- The schema's revision, for a workstation's connection test: it asks as the sign-in
-- role, which may read no table.
CREATE FUNCTION erpgo_schema_revision() RETURNS TEXT LANGUAGE sql STABLE {DEFINER} AS $$
    SELECT version_num FROM alembic_version LIMIT 1
$$;

-- Until when an account is locked, or NULL (also for a name nobody has).
CREATE FUNCTION erpgo_sign_in_locked_until(name TEXT) RETURNS TIMESTAMPTZ
LANGUAGE sql STABLE {DEFINER} AS $$
    SELECT locked_until FROM users
    WHERE lower(username) = lower(name) AND locked_until > now()
$$;

-- Counts a wrong password; the fifth in a row locks the account for 15 minutes. Returns
-- the end of the lock when there is one.
CREATE FUNCTION erpgo_sign_in_failed(name TEXT) RETURNS TIMESTAMPTZ
LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
    account users%ROWTYPE;
BEGIN
    SELECT * INTO account FROM users WHERE lower(username) = lower(name) FOR UPDATE;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF account.locked_until > now() THEN
        RETURN account.locked_until;
    END IF;
    IF account.failed_login_count + 1 >= 5 THEN
        UPDATE users SET failed_login_count = 0, locked_until = now() + interval '15 minutes'
        WHERE id = account.id RETURNING locked_until INTO account.locked_until;
        RETURN account.locked_until;
    END IF;
    UPDATE users SET failed_login_count = failed_login_count + 1 WHERE id = account.id;
    RETURN NULL;
END $$;

-- The person connected has proven their password to PostgreSQL: their account, unless it
-- is locked (then only the end of the lock), and the bookkeeping of a good sign-in.
CREATE FUNCTION erpgo_sign_in()
RETURNS TABLE (user_id UUID, locked_until TIMESTAMPTZ, is_active BOOLEAN)
LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
    account users%ROWTYPE;
BEGIN
    SELECT * INTO account FROM users WHERE login_role = session_user::text FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF account.locked_until > now() THEN
        RETURN QUERY SELECT account.id, account.locked_until, coalesce(account.is_active, true);
        RETURN;
    END IF;
    IF NOT coalesce(account.is_active, true) THEN
        -- The right password all the same: the count of wrong ones starts again.
        UPDATE users SET failed_login_count = 0 WHERE id = account.id;
        RETURN QUERY SELECT account.id, NULL::TIMESTAMPTZ, false;
        RETURN;
    END IF;
    UPDATE users SET failed_login_count = 0, locked_until = NULL, last_login_at = now()
    WHERE id = account.id;
    RETURN QUERY SELECT account.id, NULL::TIMESTAMPTZ, true;
END $$;

-- The login role of a user name; for a name nobody has, the one it would have, so that
-- the answer does not tell which accounts exist.
CREATE FUNCTION erpgo_login_role(name TEXT) RETURNS TEXT LANGUAGE sql STABLE {DEFINER} AS $$
    SELECT coalesce(
        (SELECT login_role FROM users WHERE lower(username) = lower(name)),
        erpgo_role_name((SELECT role_prefix FROM erpgo_security) || '.' || lower(name)))
$$;

-- Administration -----------------------------------------------------------------------
CREATE FUNCTION erpgo_check_verifier(verifier TEXT) RETURNS VOID LANGUAGE plpgsql AS $$
BEGIN
    IF verifier IS NULL OR verifier NOT LIKE 'SCRAM-SHA-256$%' THEN
        RAISE EXCEPTION 'a password must arrive as a SCRAM-SHA-256 verifier'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
END $$;

CREATE FUNCTION erpgo_role_exists(name TEXT) RETURNS BOOLEAN LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = name)
$$;


-- The group role of an application role, made when missing; its permissions as memberships
-- of the permission roles (none while the role is inactive).
CREATE FUNCTION erpgo_sync_role(role_id UUID) RETURNS TEXT LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
    app_role roles%ROWTYPE;
    settings erpgo_security%ROWTYPE;
    held JSONB;
    permission_role RECORD;
    holds BOOLEAN;
BEGIN
    SELECT * INTO settings FROM erpgo_security;
    SELECT * INTO app_role FROM roles WHERE id = role_id;
    IF app_role.db_role IS NULL THEN
        app_role.db_role := erpgo_role_name(settings.role_prefix || '#' || app_role.name);
        UPDATE roles SET db_role = app_role.db_role WHERE id = role_id;
    END IF;
    IF NOT erpgo_role_exists(app_role.db_role) THEN
        EXECUTE format('CREATE ROLE %I NOLOGIN INHERIT', app_role.db_role);
    END IF;
    held := CASE WHEN jsonb_typeof(app_role.permissions) = 'array'
        THEN app_role.permissions ELSE '[]'::jsonb END;
    FOR permission_role IN SELECT * FROM erpgo_permission_roles LOOP
        holds := coalesce(app_role.is_active, true)
            AND (held ? permission_role.permission OR held ? '*');
        IF holds THEN
            EXECUTE format('GRANT %I TO %I', permission_role.role_name, app_role.db_role);
        ELSIF pg_has_role(app_role.db_role, permission_role.role_name, 'MEMBER') THEN
            EXECUTE format('REVOKE %I FROM %I', permission_role.role_name, app_role.db_role);
        END IF;
    END LOOP;
    RETURN app_role.db_role;
END $$;

-- A user's login role (made when missing, with `verifier` as its password), its LOGIN
-- following is_active, and its memberships following user_roles.
CREATE FUNCTION erpgo_sync_user(target UUID, verifier TEXT DEFAULT NULL) RETURNS TEXT
LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
    account users%ROWTYPE;
    settings erpgo_security%ROWTYPE;
    app_role RECORD;
BEGIN
    SELECT * INTO settings FROM erpgo_security;
    SELECT * INTO account FROM users WHERE id = target;
    IF account.login_role IS NULL THEN
        account.login_role := erpgo_role_name(
            settings.role_prefix || '.' || lower(account.username));
        UPDATE users SET login_role = account.login_role WHERE id = target;
    END IF;
    IF NOT erpgo_role_exists(account.login_role) THEN
        EXECUTE format('CREATE ROLE %I NOLOGIN INHERIT', account.login_role);
    END IF;
    EXECUTE format('ALTER ROLE %I %s', account.login_role,
        CASE WHEN coalesce(account.is_active, true) THEN 'LOGIN' ELSE 'NOLOGIN' END);
    IF verifier IS NOT NULL THEN
        PERFORM erpgo_check_verifier(verifier);
        EXECUTE format('ALTER ROLE %I PASSWORD %L', account.login_role, verifier);
    END IF;
    EXECUTE format('GRANT %I TO %I', settings.person_role, account.login_role);
    FOR app_role IN
        SELECT r.id, r.db_role, EXISTS (
            SELECT FROM user_roles m WHERE m.user_id = target AND m.role_id = r.id) AS holds
        FROM roles r
    LOOP
        IF app_role.holds THEN
            EXECUTE format('GRANT %I TO %I', erpgo_sync_role(app_role.id), account.login_role);
        ELSIF app_role.db_role IS NOT NULL AND erpgo_role_exists(app_role.db_role)
                AND pg_has_role(account.login_role, app_role.db_role, 'MEMBER') THEN
            EXECUTE format('REVOKE %I FROM %I', app_role.db_role, account.login_role);
        END IF;
    END LOOP;
    RETURN account.login_role;
END $$;

-- Ends every session of a user's login role (deactivation: at once, not at their next
-- sign-in).
CREATE FUNCTION erpgo_end_sessions(target UUID) RETURNS INTEGER LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
    login TEXT;
    ended INTEGER := 0;
    backend INTEGER;
BEGIN
    SELECT login_role INTO login FROM users WHERE id = target;
    -- The pids first: pg_terminate_backend in the WHERE clause might be tried on rows
    -- (a superuser's backend) that the other condition would have left out.
    FOR backend IN SELECT pid FROM pg_stat_activity
        WHERE usename = login AND datname = current_database() AND pid <> pg_backend_pid()
    LOOP
        IF pg_terminate_backend(backend) THEN
            ended := ended + 1;
        END IF;
    END LOOP;
    RETURN ended;
END $$;

CREATE FUNCTION erpgo_lock_user(target UUID) RETURNS VOID LANGUAGE plpgsql {DEFINER} AS $$
BEGIN
    PERFORM erpgo_require('users.admin');
    PERFORM 1 FROM users WHERE id = target FOR UPDATE;
END $$;

CREATE FUNCTION erpgo_lock_role(target UUID) RETURNS VOID LANGUAGE plpgsql {DEFINER} AS $$
BEGIN
    PERFORM erpgo_require('users.admin');
    PERFORM 1 FROM roles WHERE id = target FOR UPDATE;
END $$;

CREATE FUNCTION erpgo_admin_create_user(
    new_username TEXT, new_email TEXT, new_first_name TEXT, new_last_name TEXT,
    role_ids UUID[], verifier TEXT, assigned_by UUID
) RETURNS UUID LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
    made UUID;
BEGIN
    PERFORM erpgo_require('users.admin');
    PERFORM erpgo_check_verifier(verifier);
    INSERT INTO users (username, email, password_hash, first_name, last_name, is_active)
    VALUES (new_username, new_email, 'scram: the login role''s password', new_first_name,
            new_last_name, true)
    RETURNING id INTO made;
    INSERT INTO user_roles (user_id, role_id, assigned_by)
    SELECT made, unnest(role_ids), assigned_by;
    PERFORM erpgo_sync_user(made, verifier);
    RETURN made;
END $$;

-- The first administrator of a database that has no account yet (the sign-in role may ask).
CREATE FUNCTION erpgo_create_first_admin(
    new_username TEXT, new_email TEXT, new_first_name TEXT, new_last_name TEXT, verifier TEXT
) RETURNS UUID LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
    made UUID;
BEGIN
    PERFORM erpgo_check_verifier(verifier);
    -- Two workstations setting up the same empty database must not both create one.
    PERFORM pg_advisory_xact_lock(1163022407);
    IF EXISTS (SELECT FROM users) THEN
        RAISE EXCEPTION 'An administrator account exists already; please sign in.'
            USING ERRCODE = 'unique_violation', CONSTRAINT = 'first_admin_exists';
    END IF;
    INSERT INTO users (username, email, password_hash, first_name, last_name, is_active)
    VALUES (new_username, new_email, 'scram: the login role''s password', new_first_name,
            new_last_name, true)
    RETURNING id INTO made;
    INSERT INTO user_roles (user_id, role_id) SELECT made, id FROM roles WHERE name = 'admin';
    PERFORM erpgo_sync_user(made, verifier);
    RETURN made;
END $$;

CREATE FUNCTION erpgo_admin_update_profile(
    target UUID, new_email TEXT, new_first_name TEXT, new_last_name TEXT, new_phone TEXT
) RETURNS VOID LANGUAGE plpgsql {DEFINER} AS $$
BEGIN
    PERFORM erpgo_require('users.admin');
    UPDATE users SET email = new_email, first_name = new_first_name,
        last_name = new_last_name, phone = new_phone, updated_at = now()
    WHERE id = target;
END $$;

CREATE FUNCTION erpgo_admin_set_roles(target UUID, role_ids UUID[], assigned_by UUID)
RETURNS VOID LANGUAGE plpgsql {DEFINER} AS $$
BEGIN
    PERFORM erpgo_require('users.admin');
    DELETE FROM user_roles WHERE user_id = target AND NOT role_id = ANY(role_ids);
    INSERT INTO user_roles (user_id, role_id, assigned_by)
    SELECT target, wanted, assigned_by FROM unnest(role_ids) AS wanted
    WHERE NOT EXISTS (SELECT FROM user_roles WHERE user_id = target AND role_id = wanted);
    UPDATE users SET updated_at = now() WHERE id = target;
    PERFORM erpgo_sync_user(target);
END $$;

CREATE FUNCTION erpgo_admin_set_active(target UUID, active BOOLEAN)
RETURNS VOID LANGUAGE plpgsql {DEFINER} AS $$
BEGIN
    PERFORM erpgo_require('users.admin');
    UPDATE users SET is_active = active, updated_at = now() WHERE id = target;
    PERFORM erpgo_sync_user(target);
    IF NOT active THEN
        PERFORM erpgo_end_sessions(target);
    END IF;
END $$;

CREATE FUNCTION erpgo_admin_unlock(target UUID) RETURNS VOID LANGUAGE plpgsql {DEFINER} AS $$
BEGIN
    PERFORM erpgo_require('users.admin');
    UPDATE users SET failed_login_count = 0, locked_until = NULL, updated_at = now()
    WHERE id = target;
END $$;

CREATE FUNCTION erpgo_admin_set_password(target UUID, verifier TEXT)
RETURNS VOID LANGUAGE plpgsql {DEFINER} AS $$
BEGIN
    PERFORM erpgo_require('users.admin');
    PERFORM erpgo_sync_user(target, verifier);
    UPDATE users SET failed_login_count = 0, locked_until = NULL, updated_at = now()
    WHERE id = target;
END $$;

-- Anyone signed in, for their own login role only.
CREATE FUNCTION erpgo_change_own_password(verifier TEXT)
RETURNS VOID LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
    target UUID;
BEGIN
    SELECT id INTO target FROM users WHERE login_role = session_user::text;
    IF target IS NULL THEN
        RAISE EXCEPTION 'only a person signed in as their own login role changes its password'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM erpgo_sync_user(target, verifier);
    UPDATE users SET updated_at = now() WHERE id = target;
END $$;

-- Creates (target NULL) or changes an application role; returns its id.
CREATE FUNCTION erpgo_admin_save_role(
    target UUID, new_name TEXT, new_description TEXT, new_permissions JSONB, active BOOLEAN
) RETURNS UUID LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
    saved UUID := target;
BEGIN
    PERFORM erpgo_require('users.admin');
    IF saved IS NULL THEN
        INSERT INTO roles (name, description, permissions, is_active)
        VALUES (new_name, new_description, new_permissions, active) RETURNING id INTO saved;
    ELSE
        UPDATE roles SET name = coalesce(new_name, name),
            description = new_description, permissions = new_permissions, is_active = active
        WHERE id = saved;
    END IF;
    PERFORM erpgo_sync_role(saved);
    RETURN saved;
END $$;
"""

DOWNGRADE = """
DROP FUNCTION erpgo_admin_save_role(UUID, TEXT, TEXT, JSONB, BOOLEAN);
DROP FUNCTION erpgo_change_own_password(TEXT);
DROP FUNCTION erpgo_admin_set_password(UUID, TEXT);
DROP FUNCTION erpgo_admin_unlock(UUID);
DROP FUNCTION erpgo_admin_set_active(UUID, BOOLEAN);
DROP FUNCTION erpgo_admin_set_roles(UUID, UUID[], UUID);
DROP FUNCTION erpgo_admin_update_profile(UUID, TEXT, TEXT, TEXT, TEXT);
DROP FUNCTION erpgo_create_first_admin(TEXT, TEXT, TEXT, TEXT, TEXT);
DROP FUNCTION erpgo_admin_create_user(TEXT, TEXT, TEXT, TEXT, UUID[], TEXT, UUID);
DROP FUNCTION erpgo_lock_role(UUID);
DROP FUNCTION erpgo_lock_user(UUID);
DROP FUNCTION erpgo_end_sessions(UUID);
DROP FUNCTION erpgo_sync_user(UUID, TEXT);
DROP FUNCTION erpgo_sync_role(UUID);
DROP FUNCTION erpgo_role_name(TEXT);
DROP FUNCTION erpgo_role_exists(TEXT);
DROP FUNCTION erpgo_check_verifier(TEXT);
DROP FUNCTION erpgo_login_role(TEXT);
DROP FUNCTION erpgo_sign_in();
DROP FUNCTION erpgo_sign_in_failed(TEXT);
DROP FUNCTION erpgo_sign_in_locked_until(TEXT);
DROP FUNCTION erpgo_schema_revision();
DROP FUNCTION erpgo_has_users();
DROP FUNCTION erpgo_share_rows(REGCLASS, UUID[]);
DROP TRIGGER order_status_guard ON orders;
DROP FUNCTION order_status_guard();
DROP TRIGGER ledger_kept_as_written ON inventory_transactions;
DROP FUNCTION ledger_kept_as_written();
DROP TRIGGER stock_apply_ledger ON inventory_transactions;
DROP FUNCTION stock_apply_ledger();
DROP FUNCTION erpgo_require(TEXT);
DROP FUNCTION erpgo_may(TEXT);
DROP FUNCTION erpgo_is_maintainer();
ALTER TABLE roles DROP COLUMN db_role;
DROP TABLE erpgo_permission_roles;
DROP TABLE erpgo_security;
"""


def upgrade() -> None:
    op.execute(UPGRADE)
    for function in RUN_AS_OWNER:
        op.execute(
            f"ALTER FUNCTION {function} SECURITY DEFINER SET search_path = pg_catalog, public"
        )


def downgrade() -> None:
    for function in RUN_AS_OWNER:
        op.execute(f"ALTER FUNCTION {function} SECURITY INVOKER RESET search_path")
    op.execute(DOWNGRADE)
