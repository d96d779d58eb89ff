"""The cache's subscriptions to catalog changes (``catalog.events``), after commit."""

from django.dispatch import receiver

from catalog.events import product_changed, tables_changed
from catalog.page_cache import product_pages_forget
from catalog.query_cache import table_generations_move


@receiver(product_changed, dispatch_uid="catalog-page-cache")
def _forget_product_pages(sender, product_ids: frozenset[int], lsn: int, **kwargs) -> None:
    product_pages_forget(product_ids=product_ids, lsn=lsn)


@receiver(tables_changed, dispatch_uid="catalog-query-cache")
def _move_table_generations(sender, tables: frozenset[str], lsn: int, **kwargs) -> None:
    table_generations_move(tables=tables, lsn=lsn)
