"""Model signals → catalog change announcements (``catalog.events``), nothing else.

Covers every single-row save and delete, from services, the admin (inlines included),
fixtures (``loaddata``) or a shell. Bulk writes (``bulk_create``, ``bulk_update``,
``QuerySet.update``) send no model signals: they go through ``catalog.services``, which
announce them.
"""

from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver

from catalog.events import catalog_changed_on_commit
from catalog.models import Category, Picture, Price, Product, ProductText, Review

PRODUCT_PARTS = (Price, Picture, ProductText, Review)
STORED_PRODUCT = "_catalog_stored_product_id"  # the product the row had before this write


@receiver([post_save, post_delete], sender=Product)
def _product_written(sender, instance: Product, using: str, **kwargs) -> None:
    catalog_changed_on_commit(product_ids=[instance.pk], models=[Product], using=using)


def _part_to_be_saved(sender, instance, using: str, **kwargs) -> None:
    # A part moved to another product (e.g. a misfiled review) changes both pages. The
    # product it is moved from is the one in the database, not the one this instance was
    # loaded with: it may be a fresh instance with an existing pk (loaddata), have been
    # moved by someone else since it was loaded, or have been loaded without product_id.
    if instance.pk is not None:
        setattr(instance, STORED_PRODUCT, _stored_product_id(sender, instance.pk, using))


def _part_to_be_deleted(sender, instance, using: str, origin=None, **kwargs) -> None:
    # Only ``instance.delete()`` may hold an outdated row; a cascade or a queryset
    # delete has just read the rows it deletes.
    if origin is instance:
        setattr(instance, STORED_PRODUCT, _stored_product_id(sender, instance.pk, using))


def _part_written(sender, instance, using: str, **kwargs) -> None:
    # __dict__: a product_id deferred and never set is unchanged, and not worth a query.
    product_ids = [instance.__dict__.get("product_id"), instance.__dict__.pop(STORED_PRODUCT, None)]
    catalog_changed_on_commit(product_ids=product_ids, models=[sender], using=using)


def _stored_product_id(model, pk: int, using: str) -> int | None:
    rows = model._base_manager.using(using).filter(pk=pk)
    if transaction.get_connection(using).in_atomic_block:
        # FOR UPDATE, not a plain SELECT: of two moves of one row at once, the later one
        # would read the product the row is leaving, wait for the earlier one's commit in
        # its UPDATE, and never announce the product the earlier one moved the row to,
        # whose page would keep showing it. Locked, its read waits and sees where the row
        # is. It costs next to nothing: the UPDATE locks the row until commit anyway.
        rows = rows.select_for_update()
    return rows.values_list("product_id", flat=True).first()


for _part in PRODUCT_PARTS:
    _uid = f"catalog-{_part.__name__}"
    pre_save.connect(_part_to_be_saved, sender=_part, dispatch_uid=f"{_uid}-to-save")
    pre_delete.connect(_part_to_be_deleted, sender=_part, dispatch_uid=f"{_uid}-to-delete")
    post_save.connect(_part_written, sender=_part, dispatch_uid=f"{_uid}-saved")
    post_delete.connect(_part_written, sender=_part, dispatch_uid=f"{_uid}-deleted")


@receiver([post_save, post_delete], sender=Category)
def _category_written(sender, instance: Category, using: str, **kwargs) -> None:
    # A product page shows its category's name: every product of it has changed.
    catalog_changed_on_commit(category_ids=[instance.pk], models=[Category], using=using)
