import pytest
from django.core.management import CommandError, call_command

from catalog.models import Picture, Price, Product, ProductText, Review

pytestmark = pytest.mark.django_db


def _catalog_snapshot():
    return list(Product.objects.order_by("slug").values_list("slug", "name", "published"))


def test_seed_makes_products_with_everything_a_page_shows(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    call_command("seed_catalog", products=12, reviews_per_product=3, seed=7, verbosity=0)

    assert Product.objects.count() == 12
    assert Review.objects.count() == 36
    assert ProductText.objects.count() == 12
    assert Picture.objects.count() == 12
    assert Price.objects.count() >= 12
    assert (tmp_path / "catalog" / "cakes.png").stat().st_size > 1000


def test_same_seed_gives_the_same_catalog(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    call_command("seed_catalog", products=20, seed=3, verbosity=0)
    first = _catalog_snapshot()
    call_command("seed_catalog", products=20, seed=3, reset=True, verbosity=0)
    assert _catalog_snapshot() == first
    call_command("seed_catalog", products=20, seed=4, reset=True, verbosity=0)
    assert _catalog_snapshot() != first


def test_if_empty_leaves_an_existing_catalog_alone(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    call_command("seed_catalog", products=5, verbosity=0)
    call_command("seed_catalog", products=5, if_empty=True, verbosity=0)
    assert Product.objects.count() == 5


def test_negative_counts_are_refused_with_a_clear_error():
    with pytest.raises(CommandError, match="must not be negative"):
        call_command("seed_catalog", products=-1, verbosity=0)
