"""A picture or review moved to another product changes both pages, however the row
was loaded: the product it leaves is read from the database, not from the instance.

These tests commit (``transaction=True``): changes are announced after commit.
"""

import threading

import pytest
from django.core import serializers
from django.core.management import call_command
from django.db import connection, connections, transaction

from catalog.models import Review
from tests.catalog.pages import product_page, warm
from tests.cluster import wait_for
from tests.factories import PictureFactory, ProductFactory, ReviewFactory

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])


def _shown(part) -> str:
    """What ``part`` puts on its product's page."""
    return part.body if isinstance(part, Review) else f'alt="{part.alt}"'


def _moved_by_a_partial_instance(part, to, tmp_path) -> None:
    """Loaded without product_id (``.only()``), then moved."""
    partial = type(part).objects.only("pk").get(pk=part.pk)
    partial.product = to
    partial.save()


def _moved_by_a_fresh_instance(part, to, tmp_path) -> None:
    """A new instance given the existing pk (as loaddata and some imports build them)."""
    fields = {field.attname: getattr(part, field.attname) for field in part._meta.concrete_fields}
    type(part)(**(fields | {"product_id": to.pk})).save()


def _moved_by_loaddata(part, to, tmp_path) -> None:
    part.product = to  # not saved: only written to the fixture
    fixture = tmp_path / "moved.json"
    fixture.write_text(serializers.serialize("json", [part]))
    call_command("loaddata", str(fixture), verbosity=0)


MOVES = [_moved_by_a_partial_instance, _moved_by_a_fresh_instance, _moved_by_loaddata]


@pytest.fixture(params=["review", "picture"])
def part(request, product):
    """A review or a picture of ``product``."""
    if request.param == "review":
        return ReviewFactory(product=product, body="Misfiled.")
    return PictureFactory(product=product)


@pytest.mark.parametrize("move", MOVES, ids=lambda move: move.__name__.removeprefix("_moved_by_"))
def test_moved_part_leaves_one_page_for_the_other(client, product, part, move, tmp_path):
    other = ProductFactory()
    assert _shown(part) in warm(client, product)
    assert _shown(part) not in warm(client, other)
    move(part, other, tmp_path)
    assert _shown(part) not in product_page(client, product)
    assert _shown(part) in product_page(client, other)


def test_part_moved_by_someone_else_since_it_was_loaded_is_taken_off_the_right_page(
    client, product, part
):
    elsewhere, other = ProductFactory(), ProductFactory()
    moved_meanwhile = type(part).objects.get(pk=part.pk)  # another clone's copy of the row
    moved_meanwhile.product = elsewhere
    moved_meanwhile.save()
    assert _shown(part) in warm(client, elsewhere)
    part.refresh_from_db()  # still remembers loading it for ``product``
    part.product = other
    part.save()
    assert _shown(part) not in product_page(client, elsewhere)
    assert _shown(part) in product_page(client, other)


def test_part_deleted_through_an_outdated_instance_is_taken_off_the_right_page(
    client, product, part
):
    elsewhere = ProductFactory()
    moved_meanwhile = type(part).objects.get(pk=part.pk)
    moved_meanwhile.product = elsewhere
    moved_meanwhile.save()
    assert _shown(part) in warm(client, elsewhere)
    part.delete()  # this instance still says ``product``
    assert _shown(part) not in product_page(client, elsewhere)


def test_part_moved_twice_at_once_is_taken_off_the_page_of_the_first_move(client, product, part):
    """Two transactions move one row at once: the second reads where the row is only
    after the first has committed (the row lock), so it takes the row off the page the
    first one put it on."""
    first_to, second_to = ProductFactory(), ProductFactory()
    first_saved, first_may_commit = threading.Event(), threading.Event()
    second_saved, second_may_commit = threading.Event(), threading.Event()

    def move(to, saved: threading.Event, may_commit: threading.Event) -> None:
        try:
            with transaction.atomic():
                row = type(part).objects.get(pk=part.pk)  # still on ``product`` for both
                row.product = to
                row.save()
                saved.set()
                assert may_commit.wait(30)
        finally:
            connections.close_all()

    first = threading.Thread(target=move, args=(first_to, first_saved, first_may_commit))
    second = threading.Thread(target=move, args=(second_to, second_saved, second_may_commit))
    first.start()
    assert first_saved.wait(30)
    second.start()
    wait_for(_someone_waits_for_a_row_lock, timeout=30, what="the second move to wait")
    first_may_commit.set()
    first.join(timeout=30)
    assert second_saved.wait(30)
    assert _shown(part) in warm(client, first_to)  # the first move is committed, alone
    second_may_commit.set()
    second.join(timeout=30)
    assert _shown(part) not in product_page(client, first_to)
    assert _shown(part) in product_page(client, second_to)


def _someone_waits_for_a_row_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        (waiting,) = cursor.fetchone()
    return waiting > 0
