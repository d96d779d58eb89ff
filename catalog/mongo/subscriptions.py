"""The read model's subscription to catalog changes (``caching.changes``), after commit.

Per changed product: mark its document as written at the commit's LSN (so readers that
must see the write skip the document until it is projected), and queue one projection
job through the outbox (so a broker outage delays the projection, never loses it).
"""

import logging
import time

from django.db import transaction
from django.dispatch import receiver

from caching.changes import objects_changed
from catalog.models import Product
from catalog.mongo.actors import catalog_mongo_project
from catalog.mongo.client import MONGO_ERRORS, mongo_enabled, mongo_failed
from catalog.mongo.projection import documents_mark_written
from jobs.outbox import outbox_enqueue
from replication.lsn import Lsn

logger = logging.getLogger(__name__)


@receiver(objects_changed, sender=Product, dispatch_uid="catalog-mongo-projection")
def _project_products(sender, ids: frozenset[int], lsn: Lsn | None, **kwargs) -> None:
    if not mongo_enabled():
        return
    if lsn is not None:
        try:
            documents_mark_written(product_ids=ids, lsn=lsn)
        except MONGO_ERRORS as error:
            # The job marks them too when it starts; until then a stale page may be served.
            mongo_failed(error, doing="marking changed products")
    written_at = time.time()
    with transaction.atomic():
        for product_id in sorted(ids):
            outbox_enqueue(actor=catalog_mongo_project, args=(product_id, lsn, written_at))
