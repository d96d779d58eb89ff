"""Full builds: every catalog page rendered into a fresh directory, published at once."""

from __future__ import annotations

import gzip
import re
import time
from io import StringIO

import pytest
from django.core.management import call_command

import prerender.build
from prerender import store
from prerender.build import site_build
from prerender.site import site_paths
from tests.caching.helpers import at_once
from tests.factories import CategoryFactory, PriceFactory
from tests.prerender.conftest import make_product, published

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])


def test_the_site_is_the_home_page_every_category_and_every_published_product(product):
    hidden = make_product(category=product.category, published=False)
    empty = CategoryFactory()
    paths = site_paths()
    assert paths["home"] == ["/"]
    assert sorted(paths["category"]) == sorted(
        [f"/categories/{product.category.slug}/", f"/categories/{empty.slug}/"]
    )
    assert paths["product"] == [f"/products/{product.slug}/"]
    assert f"/products/{hidden.slug}/" not in paths["product"]


def test_a_build_publishes_every_page_with_its_gzip_and_its_figures(built, product):
    assert built.pages == 3  # home, category, product
    current = store.current_build()
    assert current is not None and current.name == built.name
    page = store.page_file(current, f"/products/{product.slug}/")
    assert "12.50 EUR" in page.read_text()
    assert gzip.decompress(page.with_name("index.html.gz").read_bytes()) == page.read_bytes()
    assert store.build_figures(current)["pages"] == 3
    assert built.bytes > 0 and built.seconds >= 0


def test_the_published_pages_are_the_pages_a_clone_serves(built, product, client):
    for path in ("/", f"/categories/{product.category.slug}/", f"/products/{product.slug}/"):
        assert published(path) == client.get(path).text, path


def test_no_prerendered_page_holds_a_csrf_token_a_session_or_a_cart(product, client):
    client.post(f"/cart/add/{product.slug}/", {"quantity": "3"})  # a shopper with a cart
    site_build(processes=1)
    for page in store.current_build().rglob("index.html"):
        text = page.read_text()
        assert "csrfmiddlewaretoken" not in text
        assert "sessionid" not in text and client.session.session_key not in text
        assert '<span id="cart-count">0</span>' in text  # filled in by /cart.json


def test_a_page_with_a_scheduled_price_stays_dynamic(product):
    from datetime import timedelta

    from django.utils import timezone

    PriceFactory(product=product, valid_from=timezone.now() + timedelta(hours=1))
    site_build(processes=1)
    assert published(f"/products/{product.slug}/") is None
    assert published("/") is not None


def test_old_builds_are_deleted_but_the_last_few_kept(product, settings):
    settings.PRERENDER_KEEP_BUILDS = 2
    names = []
    for _ in range(3):
        names.append(site_build(processes=1).name)
    kept = sorted(b.name for b in (store.root() / store.BUILDS).iterdir())
    assert kept == sorted(names[1:])


def test_two_builds_at_once_give_one_publish(product, monkeypatch):
    def slow_site_paths():
        time.sleep(0.5)  # the first build still holds the directory when the second starts
        return site_paths()

    monkeypatch.setattr(prerender.build, "site_paths", slow_site_paths)
    results = []
    at_once(2, lambda: results.append(site_build(processes=1)))
    assert sorted(results, key=bool) == [None, results[0] or results[1]]
    assert len(list((store.root() / store.BUILDS).iterdir())) == 1


def test_a_build_running_elsewhere_makes_another_one_step_aside(product):
    with store.build_lock() as mine:
        assert mine
        assert site_build(processes=1) is None
    assert site_build(processes=1) is not None


def test_a_build_renders_with_several_processes(product):
    others = [make_product(category=product.category) for _ in range(5)]
    figures = site_build(processes=2)
    assert figures.pages == 2 + 6
    for other in others:
        assert published(f"/products/{other.slug}/") is not None


def test_the_command_builds_once_and_then_only_if_nothing_is_published(product):
    out = StringIO()
    call_command("prerender", "--processes", "1", stdout=out)
    assert re.search(r"published \S+: 3 pages in [\d.]+ s \(\d+ pages/s", out.getvalue())
    call_command("prerender", "--if-unpublished", stdout=out)
    assert "published already; nothing to do" in out.getvalue()
    with store.build_lock():
        call_command("prerender", "--processes", "1", stdout=out)
    assert "another build is running" in out.getvalue()
