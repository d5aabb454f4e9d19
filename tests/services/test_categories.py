"""The category tree on real PostgreSQL: paths and levels on create, rename and move; no
cycles; unique sibling names; no delete while products or subcategories are in it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from erpgo_desktop.db.engine import make_session_factory
from erpgo_desktop.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.services.catalog_admin import (
    CategoryDraft,
    CategoryRow,
    CategoryService,
    ProductDraft,
    ProductService,
)
from tests.services.test_products import NOBODY, Staff, make_staff


@pytest.fixture
def staff(engine: Engine) -> Staff:
    return make_staff(engine)


@pytest.fixture
def categories(engine: Engine) -> CategoryService:
    return CategoryService(make_session_factory(engine))


def tree(engine: Engine) -> dict[str, tuple[str, int, int]]:
    """Each category's name: (path, level, version), as stored."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT name, path, level, version FROM product_categories"))
        return {name: (path, level, version) for name, path, level, version in rows}


def build(categories: CategoryService, staff: Staff) -> dict[str, CategoryRow]:
    """Electronics > Phones > Smartphones, Electronics > Audio, and Garden at the top."""
    made: dict[str, CategoryRow] = {}

    def add(name: str, parent: str | None = None) -> None:
        parent_id = made[parent].id if parent else None
        made[name] = categories.create_category(staff.manager, CategoryDraft(name, parent_id))

    add("Electronics")
    add("Phones", "Electronics")
    add("Smartphones", "Phones")
    add("Audio", "Electronics")
    add("Garden")
    return made


def test_create_keeps_path_and_level(
    engine: Engine, categories: CategoryService, staff: Staff
) -> None:
    made = build(categories, staff)

    assert (made["Smartphones"].path, made["Smartphones"].level) == (
        "/Electronics/Phones/Smartphones",
        3,
    )
    assert made["Smartphones"].parent_id == made["Phones"].id
    assert (made["Garden"].path, made["Garden"].level, made["Garden"].parent_id) == (
        "/Garden",
        1,
        None,
    )
    assert made["Audio"].updated_by_name == "alice" and made["Audio"].version == 1
    assert tree(engine)["Audio"] == ("/Electronics/Audio", 2, 1)
    assert categories.get_category(staff.clerk, made["Phones"].id) == made["Phones"]


def test_the_list_puts_parents_before_children(categories: CategoryService, staff: Staff) -> None:
    made = build(categories, staff)
    listed = categories.list_categories(staff.sales)
    assert [row.path for row in listed] == [
        "/Electronics",
        "/Garden",
        "/Electronics/Audio",
        "/Electronics/Phones",
        "/Electronics/Phones/Smartphones",
    ]
    categories.deactivate_category(staff.manager, made["Garden"].id, expected_version=1)
    active = categories.list_categories(staff.sales, include_inactive=False)
    assert "/Garden" not in [row.path for row in active] and len(active) == 4


def test_rename_rewrites_the_paths_of_the_subtree(
    engine: Engine, categories: CategoryService, staff: Staff
) -> None:
    made = build(categories, staff)
    draft = CategoryDraft("Consumer electronics", None, "Things with plugs", sort_order=3)

    renamed = categories.update_category(
        staff.other_manager, made["Electronics"].id, draft, expected_version=1
    )

    assert (renamed.path, renamed.level, renamed.version) == ("/Consumer electronics", 1, 2)
    assert (renamed.description, renamed.sort_order, renamed.updated_by_name) == (
        "Things with plugs",
        3,
        "bob",
    )
    stored = tree(engine)
    # Paths below follow; the subcategories' own versions stay (nobody edited them).
    assert stored["Phones"] == ("/Consumer electronics/Phones", 2, 1)
    assert stored["Smartphones"] == ("/Consumer electronics/Phones/Smartphones", 3, 1)
    assert stored["Audio"] == ("/Consumer electronics/Audio", 2, 1)
    assert stored["Garden"] == ("/Garden", 1, 1)


def test_move_rewrites_path_and_level_of_the_subtree(
    engine: Engine, categories: CategoryService, staff: Staff
) -> None:
    made = build(categories, staff)

    moved = categories.move_category(
        staff.manager, made["Phones"].id, made["Garden"].id, expected_version=1
    )
    assert (moved.path, moved.level, moved.parent_id) == ("/Garden/Phones", 2, made["Garden"].id)
    assert tree(engine)["Smartphones"] == ("/Garden/Phones/Smartphones", 3, 1)

    # To the top: one level up for the whole subtree.
    top = categories.move_category(staff.manager, made["Phones"].id, None, expected_version=2)
    assert (top.path, top.level, top.parent_id) == ("/Phones", 1, None)
    assert tree(engine)["Smartphones"] == ("/Phones/Smartphones", 2, 1)

    # And deeper again, through update_category (rename and move at once).
    draft = CategoryDraft("Mobile", made["Smartphones"].id)
    with pytest.raises(ValidationError, match="below one of its own subcategories"):
        categories.update_category(staff.manager, made["Phones"].id, draft, expected_version=3)
    draft = CategoryDraft("Mobile", made["Audio"].id)
    deeper = categories.update_category(staff.manager, made["Phones"].id, draft, expected_version=3)
    assert (deeper.path, deeper.level) == ("/Electronics/Audio/Mobile", 3)
    assert tree(engine)["Smartphones"] == ("/Electronics/Audio/Mobile/Smartphones", 4, 1)


def test_a_category_cannot_become_its_own_ancestor(
    engine: Engine, categories: CategoryService, staff: Staff
) -> None:
    made = build(categories, staff)
    before = tree(engine)
    electronics = made["Electronics"].id

    with pytest.raises(ValidationError, match="its own parent") as refused:
        categories.move_category(staff.manager, electronics, electronics, expected_version=1)
    assert refused.value.field == "parent_id"
    for below in ("Phones", "Smartphones"):
        with pytest.raises(ValidationError, match="below one of its own subcategories") as refused:
            categories.move_category(staff.manager, electronics, made[below].id, expected_version=1)
        assert refused.value.field == "parent_id"
    assert tree(engine) == before


def test_sibling_names_differ(engine: Engine, categories: CategoryService, staff: Staff) -> None:
    made = build(categories, staff)

    with pytest.raises(ConflictError, match="'Audio' in this parent category") as refused:
        categories.create_category(staff.manager, CategoryDraft("AUDIO", made["Electronics"].id))
    assert refused.value.field == "name"
    with pytest.raises(ConflictError, match="'Garden' at the top"):
        categories.create_category(staff.manager, CategoryDraft(" garden "))
    with pytest.raises(ConflictError, match="'Garden'"):  # by renaming
        categories.update_category(
            staff.manager, made["Electronics"].id, CategoryDraft("Garden"), expected_version=1
        )

    # The same name under another parent is another path, and fine...
    audio = categories.create_category(staff.manager, CategoryDraft("Audio", made["Phones"].id))
    assert audio.path == "/Electronics/Phones/Audio"
    # ...until it is moved beside the other one.
    with pytest.raises(ConflictError, match="'Audio' in this parent category"):
        categories.move_category(
            staff.manager, audio.id, made["Electronics"].id, expected_version=1
        )
    # A change of case alone is a rename of the same category.
    renamed = categories.update_category(
        staff.manager, made["Garden"].id, CategoryDraft("GARDEN"), expected_version=1
    )
    assert renamed.path == "/GARDEN"


def test_inputs_are_checked(engine: Engine, categories: CategoryService, staff: Staff) -> None:
    made = build(categories, staff)
    with pytest.raises(ValidationError, match="cannot contain '/'") as refused:
        categories.create_category(staff.manager, CategoryDraft("In/Out"))
    assert refused.value.field == "name"
    with pytest.raises(ValidationError, match="does not exist") as refused:
        categories.create_category(staff.manager, CategoryDraft("Lost", uuid.uuid4()))
    assert refused.value.field == "parent_id"
    categories.deactivate_category(staff.manager, made["Garden"].id, expected_version=1)
    with pytest.raises(ValidationError, match="'Garden' is inactive") as refused:
        categories.create_category(staff.manager, CategoryDraft("Tools", made["Garden"].id))
    assert refused.value.field == "parent_id"
    with pytest.raises(ValidationError, match="'Garden' is inactive"):
        categories.move_category(
            staff.manager, made["Audio"].id, made["Garden"].id, expected_version=1
        )
    with pytest.raises(NotFoundError):
        categories.get_category(staff.manager, uuid.uuid4())
    assert len(tree(engine)) == 5


def test_a_path_never_outgrows_its_column(
    engine: Engine, categories: CategoryService, staff: Staff
) -> None:
    # Five levels of 199-character names: a path of 5 * 200 = 1,000 characters fits.
    parent = None
    chain = []
    for level in range(5):
        name = f"{level}" + "x" * 198
        parent = categories.create_category(staff.manager, CategoryDraft(name, parent)).id
        chain.append(parent)
    with pytest.raises(ValidationError, match="1,002 characters long") as refused:
        categories.create_category(staff.manager, CategoryDraft("z", parent))
    assert refused.value.field == "name"
    # Renaming the top one longer would push the deepest path over: refused, nothing moved.
    before = tree(engine)
    with pytest.raises(ValidationError, match="1,001 characters long"):
        categories.update_category(
            staff.manager, chain[0], CategoryDraft("0" + "x" * 199), expected_version=1
        )
    assert tree(engine) == before


def test_delete_only_when_empty(engine: Engine, categories: CategoryService, staff: Staff) -> None:
    made = build(categories, staff)
    products = ProductService(make_session_factory(engine))
    products.create_product(
        staff.manager, ProductDraft("TV-1", "Radio", made["Audio"].id, Decimal("20"))
    )

    with pytest.raises(ConflictError, match="holds 1 product, so it cannot be deleted"):
        categories.delete_category(staff.manager, made["Audio"].id, expected_version=1)
    with pytest.raises(ConflictError, match="holds 2 subcategories") as refused:
        categories.delete_category(staff.manager, made["Electronics"].id, expected_version=1)
    assert "deactivate the category instead" in refused.value.message
    with pytest.raises(ConflictError, match="changed by alice"):
        categories.delete_category(staff.manager, made["Smartphones"].id, expected_version=7)
    assert len(tree(engine)) == 5

    categories.delete_category(staff.manager, made["Smartphones"].id, expected_version=1)
    categories.delete_category(staff.manager, made["Phones"].id, expected_version=1)
    assert set(tree(engine)) == {"Electronics", "Audio", "Garden"}

    inactive = categories.deactivate_category(staff.manager, made["Audio"].id, expected_version=1)
    assert (inactive.is_active, inactive.version) == (False, 2)
    active = categories.reactivate_category(staff.manager, made["Audio"].id, expected_version=2)
    assert (active.is_active, active.version) == (True, 3)


def test_stale_category_edit_is_a_conflict(categories: CategoryService, staff: Staff) -> None:
    made = build(categories, staff)
    saved = categories.update_category(
        staff.other_manager, made["Garden"].id, CategoryDraft("Outdoor"), expected_version=1
    )
    with pytest.raises(ConflictError, match="changed by bob") as conflict:
        categories.move_category(
            staff.manager, made["Garden"].id, made["Electronics"].id, expected_version=1
        )
    assert conflict.value.current == saved


def test_categories_written_without_a_path_are_repaired_by_a_rename(
    engine: Engine, categories: CategoryService, staff: Staff
) -> None:
    with engine.begin() as conn:
        top = conn.execute(
            text("INSERT INTO product_categories (name) VALUES ('Tools') RETURNING id")
        ).scalar_one()
        conn.execute(
            text("INSERT INTO product_categories (name, parent_id) VALUES ('Saws', :p)"),
            {"p": top},
        )
    assert categories.get_category(staff.manager, top).path == "/Tools"
    categories.update_category(staff.manager, top, CategoryDraft("Hand tools"), expected_version=1)
    assert tree(engine)["Saws"] == ("/Hand tools/Saws", 2, 1)


def test_reading_needs_products_read_and_writing_products_write(
    engine: Engine, categories: CategoryService, staff: Staff
) -> None:
    made = build(categories, staff)
    garden = made["Garden"].id
    with pytest.raises(PermissionDeniedError, match=r"products\.read"):
        categories.list_categories(NOBODY)
    with pytest.raises(PermissionDeniedError, match=r"products\.read"):
        categories.get_category(NOBODY, garden)
    attempts: list[Callable[[CurrentUser], object]] = [
        lambda user: categories.create_category(user, CategoryDraft("New")),
        lambda user: categories.update_category(
            user, garden, CategoryDraft("X"), expected_version=1
        ),
        lambda user: categories.move_category(user, garden, None, expected_version=1),
        lambda user: categories.deactivate_category(user, garden, expected_version=1),
        lambda user: categories.delete_category(user, garden, expected_version=1),
    ]
    for user in (staff.sales, staff.clerk):
        for attempt in attempts:
            with pytest.raises(PermissionDeniedError, match=r"products\.write"):
                attempt(user)
    assert len(tree(engine)) == 5 and tree(engine)["Garden"] == ("/Garden", 1, 1)
