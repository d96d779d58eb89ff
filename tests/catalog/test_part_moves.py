"""A picture or review moved to another product changes both pages, however the row
was loaded: the product it leaves is read from the database, not from the instance.

These tests commit (``transaction=True``): changes are announced after commit.
"""

import pytest
from django.core import serializers
from django.core.management import call_command

from catalog.models import Review
from tests.catalog.pages import product_page, warm
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
