"""Model signals → change announcements (``caching.changes``) for an owner, its parts, its groups.

Covers every single-row save and delete (services, the admin and its inlines, ``loaddata``,
a shell). Bulk writes send no model signals: their code calls ``changed_on_commit``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save

from caching.changes import Owner, changed_on_commit


def track(*, owner: Owner, parts: Iterable[Owner] = (), groups: Iterable[Owner] = ()) -> None:
    """Announce ``owner`` objects as changed whenever they are written, or any of their
    ``parts`` (models with a foreign key to ``owner``; one moved to another owner changes
    both), or any of their ``groups`` (models ``owner`` has a foreign key to: every owner
    in a changed group changes). Call it once, e.g. in an ``AppConfig.ready``."""
    uid = f"caching-track-{owner._meta.label}"

    def owner_written(sender, instance, using: str, **kwargs) -> None:
        changed_on_commit(owner=owner, ids=[instance.pk], models=[owner], using=using)

    post_save.connect(owner_written, sender=owner, weak=False, dispatch_uid=f"{uid}-saved")
    post_delete.connect(owner_written, sender=owner, weak=False, dispatch_uid=f"{uid}-deleted")
    for part in parts:
        _PartTracker(owner, _foreign_key(part, to=owner)).connect(part, uid)
    for group in groups:
        _group_connect(owner, group, _foreign_key(owner, to=group).name, uid)


def _foreign_key(model: Owner, *, to: Owner) -> models.ForeignKey:
    """``model``'s one foreign key to ``to``."""
    keys = [
        field
        for field in model._meta.concrete_fields
        if isinstance(field, models.ForeignKey) and field.related_model is to
    ]
    if len(keys) != 1:
        raise ImproperlyConfigured(
            f"{model._meta.label} must have exactly one foreign key to {to._meta.label} "
            f"to be tracked with it; it has {len(keys)}"
        )
    return keys[0]


def _group_connect(owner: Owner, group: Owner, field: str, uid: str) -> None:
    def group_written(sender, instance, using: str, **kwargs) -> None:
        # e.g. a product page shows its category's name: every product of it has changed.
        changed_on_commit(owner=owner, groups={field: [instance.pk]}, models=[group], using=using)

    label = f"{uid}-{group._meta.label}"
    post_save.connect(group_written, sender=group, weak=False, dispatch_uid=f"{label}-saved")
    post_delete.connect(group_written, sender=group, weak=False, dispatch_uid=f"{label}-deleted")


class _PartTracker:
    """The signals of one part model: its row's owner before and after each write."""

    def __init__(self, owner: Owner, key: models.ForeignKey) -> None:
        self.owner = owner
        self.attname = key.attname  # e.g. product_id
        self.stored = f"_caching_stored_{key.attname}"  # the owner before this write

    def connect(self, part: Owner, uid: str) -> None:
        label = f"{uid}-{part._meta.label}"
        pre_save.connect(self.to_be_saved, sender=part, weak=False, dispatch_uid=f"{label}-save")
        pre_delete.connect(self.to_be_deleted, sender=part, weak=False, dispatch_uid=f"{label}-del")
        post_save.connect(self.written, sender=part, weak=False, dispatch_uid=f"{label}-saved")
        post_delete.connect(self.written, sender=part, weak=False, dispatch_uid=f"{label}-deleted")

    def to_be_saved(self, sender: Owner, instance: Any, using: str, **kwargs) -> None:
        # A part moved to another owner (e.g. a misfiled review) changes both. The owner it
        # is moved from is the one in the database, not the one this instance was loaded
        # with: it may be a fresh instance with an existing pk (loaddata), have been moved
        # by someone else since it was loaded, or have been loaded without its owner's id.
        if instance.pk is not None:
            setattr(instance, self.stored, self._stored_owner(sender, instance.pk, using))

    def to_be_deleted(
        self, sender: Owner, instance: Any, using: str, origin=None, **kwargs
    ) -> None:
        # Only ``instance.delete()`` may hold an outdated row; a cascade or a queryset
        # delete has just read the rows it deletes.
        if origin is instance:
            setattr(instance, self.stored, self._stored_owner(sender, instance.pk, using))

    def written(self, sender: Owner, instance: Any, using: str, **kwargs) -> None:
        # __dict__: an owner id deferred and never set is unchanged, and not worth a query.
        ids = [instance.__dict__.get(self.attname), instance.__dict__.pop(self.stored, None)]
        changed_on_commit(owner=self.owner, ids=ids, models=[sender], using=using)

    def _stored_owner(self, part: Owner, pk: Any, using: str) -> int | None:
        rows = part._base_manager.using(using).filter(pk=pk)
        if transaction.get_connection(using).in_atomic_block:
            # FOR UPDATE, not a plain SELECT: of two moves of one row at once, the later one
            # would read the owner the row is leaving, wait for the earlier one's commit in
            # its UPDATE, and never announce the owner the earlier one moved the row to,
            # which would keep showing it. Locked, its read waits and sees where the row
            # is. It costs next to nothing: the UPDATE locks the row until commit anyway.
            rows = rows.select_for_update()
        return rows.values_list(self.attname, flat=True).first()
