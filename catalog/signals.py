"""Model signals → catalog change announcements (``catalog.events``), nothing else.

Covers every single-row save and delete, from services, the admin (inlines included)
or a shell. Bulk writes (``bulk_create``, ``bulk_update``, ``QuerySet.update``) send no
model signals: they go through ``catalog.services``, which announce them.
"""

from django.db.models.signals import post_delete, post_init, post_save
from django.dispatch import receiver

from catalog.events import catalog_changed_on_commit
from catalog.models import Category, Picture, Price, Product, ProductText, Review

PRODUCT_PARTS = (Price, Picture, ProductText, Review)
LOADED_PRODUCT = "_catalog_loaded_product_id"  # the product a part belonged to when loaded


@receiver([post_save, post_delete], sender=Product)
def _product_written(sender, instance: Product, using: str, **kwargs) -> None:
    catalog_changed_on_commit(product_ids=[instance.pk], models=[Product], using=using)


def _part_written(sender, instance, using: str, **kwargs) -> None:
    # A part moved to another product (e.g. a misfiled review) changes both pages.
    product_ids = [instance.product_id, getattr(instance, LOADED_PRODUCT, None)]
    catalog_changed_on_commit(product_ids=product_ids, models=[sender], using=using)
    setattr(instance, LOADED_PRODUCT, instance.product_id)


def _part_loaded(sender, instance, **kwargs) -> None:
    setattr(instance, LOADED_PRODUCT, instance.__dict__.get("product_id"))


for _part in PRODUCT_PARTS:
    post_init.connect(_part_loaded, sender=_part, dispatch_uid=f"catalog-{_part.__name__}-loaded")
    post_save.connect(_part_written, sender=_part, dispatch_uid=f"catalog-{_part.__name__}-saved")
    post_delete.connect(
        _part_written, sender=_part, dispatch_uid=f"catalog-{_part.__name__}-deleted"
    )


@receiver([post_save, post_delete], sender=Category)
def _category_written(sender, instance: Category, using: str, **kwargs) -> None:
    # A product page shows its category's name: every product of it has changed.
    catalog_changed_on_commit(category_ids=[instance.pk], models=[Category], using=using)
