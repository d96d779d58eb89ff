"""Model signals → catalog change announcements (``catalog.events``), nothing else.

Covers every single-row save and delete, from services, the admin (inlines included)
or a shell. Bulk writes (``bulk_create``, ``bulk_update``, ``QuerySet.update``) send no
model signals: they go through ``catalog.services``, which announce them.
"""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from catalog.events import catalog_changed_on_commit
from catalog.models import Category, Picture, Price, Product, ProductText, Review

PRODUCT_PARTS = (Price, Picture, ProductText, Review)


@receiver([post_save, post_delete], sender=Product)
def _product_written(sender, instance: Product, using: str, **kwargs) -> None:
    catalog_changed_on_commit(product_ids=[instance.pk], models=[Product], using=using)


def _part_written(sender, instance, using: str, **kwargs) -> None:
    catalog_changed_on_commit(product_ids=[instance.product_id], models=[sender], using=using)


for _part in PRODUCT_PARTS:
    post_save.connect(_part_written, sender=_part, dispatch_uid=f"catalog-{_part.__name__}-saved")
    post_delete.connect(
        _part_written, sender=_part, dispatch_uid=f"catalog-{_part.__name__}-deleted"
    )


@receiver([post_save, post_delete], sender=Category)
def _category_written(sender, instance: Category, using: str, **kwargs) -> None:
    # A product page shows its category's name: every product of it has changed.
    product_ids = (
        Product.objects.using(using).filter(category_id=instance.pk).values_list("pk", flat=True)
    )
    catalog_changed_on_commit(product_ids=list(product_ids), models=[Category], using=using)
