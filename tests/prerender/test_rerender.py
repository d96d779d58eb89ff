"""After a catalog change commits, its pages leave service at once and come back
re-rendered by a job; a page that no longer exists is removed for good."""

from __future__ import annotations

from decimal import Decimal

import pytest

from catalog import services
from prerender import store
from prerender.actors import prerender_pages
from prerender.build import site_build
from prerender.services import pages_pending_resend, pages_rerender
from replication.lsn import primary_current_lsn
from tests.factories import CategoryFactory, admin_price_form
from tests.prerender.conftest import make_product, published, queued
from tests.workers import run_as_worker

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])


def _run_queued_jobs() -> None:
    for args in queued("prerender_pages"):
        run_as_worker(prerender_pages, *args, retries=0)


def test_a_price_change_takes_its_pages_out_at_commit_and_the_job_puts_them_back(built, product):
    page, listing = f"/products/{product.slug}/", f"/categories/{product.category.slug}/"
    services.price_add(product=product, amount=Decimal("14.00"))
    assert published(page) is None and published(listing) is None  # nginx: the clones
    assert published("/") is not None  # the home page shows no price
    [(paths, product_ids)] = queued("prerender_pages")
    assert sorted(paths) == sorted([page, listing]) and product_ids == [product.pk]

    _run_queued_jobs()
    assert "14.00 EUR" in published(page)
    assert "14.00 EUR" in published(listing)
    assert store.pending_all() == []


def test_an_unpublished_product_page_is_removed_for_good(built, product):
    services.products_publish_set(product_ids=[product.pk], published=False)
    assert published("/") is None  # the home page counts the products
    _run_queued_jobs()
    assert published(f"/products/{product.slug}/") is None
    assert product.slug not in published(f"/categories/{product.category.slug}/")
    assert "0 products" in published("/")


def test_a_deleted_product_page_is_removed_for_good(built, product):
    slug, pk = product.slug, product.pk
    product.delete()
    _run_queued_jobs()
    assert published(f"/products/{slug}/") is None
    assert store.product_location(store.current_build(), pk) is None


def test_a_product_moved_to_another_category_leaves_both_listings_right(built, product):
    old, new = product.category, CategoryFactory()
    other = make_product(category=new)
    site_build(processes=1)
    product.category = new
    product.save()
    assert published(f"/categories/{old.slug}/") is None
    assert published(f"/categories/{new.slug}/") is None
    _run_queued_jobs()
    assert product.name not in published(f"/categories/{old.slug}/")
    assert product.name in published(f"/categories/{new.slug}/")
    assert other.name in published(f"/categories/{new.slug}/")


def test_a_slow_job_never_puts_back_a_page_a_later_change_took_out(built, product):
    page = f"/products/{product.slug}/"
    services.price_add(product=product, amount=Decimal("14.00"))
    [(paths, ids)] = queued("prerender_pages")
    # A later change, committed after this job read, is pending on the same page.
    store.pending_record({page}, primary_current_lsn() + 10**9)
    pages_rerender(paths=paths, product_ids=ids)
    assert published(page) is None
    assert published(f"/categories/{product.category.slug}/") is not None


def test_a_build_leaves_out_pages_changed_after_it_started(product):
    page = f"/products/{product.slug}/"
    store.pending_record({page}, primary_current_lsn() + 10**9)
    site_build(processes=1)
    assert published(page) is None
    assert published("/") is not None


def test_a_build_clears_what_it_holds_so_a_lost_job_leaves_nothing_stale(built, product):
    services.price_add(product=product, amount=Decimal("14.00"))  # its job is never run
    site_build(processes=1)
    assert "14.00 EUR" in published(f"/products/{product.slug}/")
    assert store.pending_all() == []


def test_pages_pending_too_long_are_queued_again(built, product, monkeypatch):
    services.price_add(product=product, amount=Decimal("14.00"))
    assert pages_pending_resend() == 0  # its job may still be on the way
    monkeypatch.setattr("prerender.services.RESEND_AFTER_SECONDS", -1)
    assert pages_pending_resend() == 2
    assert len(queued("prerender_pages")) == 2
    _run_queued_jobs()
    assert "14.00 EUR" in published(f"/products/{product.slug}/")


def test_nothing_is_taken_out_or_queued_before_the_first_build(product):
    services.price_add(product=product, amount=Decimal("14.00"))
    assert store.pending_all() == [] and queued("prerender_pages") == []


def test_a_new_product_is_prerendered_by_its_job(built, product):
    new = make_product(category=product.category, name="Fresh from the oven")
    _run_queued_jobs()
    assert "Fresh from the oven" in published(f"/products/{new.slug}/")
    assert "Fresh from the oven" in published(f"/categories/{product.category.slug}/")


def test_a_deleted_category_page_is_removed_for_good(built, product):
    empty = CategoryFactory()
    site_build(processes=1)
    assert published(f"/categories/{empty.slug}/") is not None
    empty.delete()
    assert published(f"/categories/{empty.slug}/") is None
    _run_queued_jobs()
    assert published(f"/categories/{empty.slug}/") is None
    assert published(f"/categories/{product.category.slug}/") is not None
    assert empty.name not in published("/")


def test_a_price_added_in_the_admin_takes_its_page_out_and_the_job_puts_it_back(
    built, product, admin_client
):
    added = admin_client.post("/admin/catalog/price/add/", admin_price_form(product, "15.25"))
    assert added.status_code == 302, added.text
    assert published(f"/products/{product.slug}/") is None
    _run_queued_jobs()
    assert "15.25 EUR" in published(f"/products/{product.slug}/")
