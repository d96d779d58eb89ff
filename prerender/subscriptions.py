"""Prerendering's subscriptions to catalog changes (``caching.changes``), after commit.

Why and how: ``docs/lessons/4.1-bake-at-night.md``."""

from django.dispatch import receiver

from caching.changes import objects_changed, tables_changed
from catalog.models import Category, Product
from prerender.services import pages_withdraw
from replication.lsn import Lsn

HOME_TABLES = frozenset({Category._meta.db_table, Product._meta.db_table})


@receiver(objects_changed, sender=Product, dispatch_uid="prerender-pages")
def _withdraw_product_pages(sender, ids: frozenset[int], lsn: Lsn | None, **kwargs) -> None:
    pages_withdraw(product_ids=ids, lsn=lsn)


@receiver(tables_changed, dispatch_uid="prerender-home")
def _withdraw_home(sender, tables: frozenset[str], lsn: Lsn | None, **kwargs) -> None:
    if tables & HOME_TABLES:
        listings = Category._meta.db_table in tables
        pages_withdraw(product_ids=(), lsn=lsn, home=True, listings=listings)
