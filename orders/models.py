"""Special orders: a cake with the customer's own writing, baked by a worker."""

import uuid

from django.db import models
from django.db.models.functions import Upper


class SpecialOrder(models.Model):
    class Status(models.TextChoices):
        QUEUED = "QUEUED", "Queued"
        BAKING = "BAKING", "Baking"
        READY = "READY", "Ready"
        FAILED = "FAILED", "Failed"

    WRITING_MAX_LENGTH = 50

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    product = models.ForeignKey(
        "catalog.Product", on_delete=models.PROTECT, related_name="special_orders"
    )
    writing = models.CharField(max_length=WRITING_MAX_LENGTH)
    pickup_date = models.DateField()
    customer_email = models.EmailField()
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    failure_reason = models.TextField(blank=True)
    # Written by the worker (orders.baking): the baked picture (a name in default_storage),
    # how many bakes were started (a redelivered message after a worker died starts
    # another; at MAX_ATTEMPTS the order is FAILED instead), who started the last one, and
    # the two one-time events.
    image = models.CharField(max_length=300, blank=True)
    attempts = models.PositiveIntegerField(
        default=0, help_text="Bakes started since the order was queued (a staff retry resets it)."
    )
    baker = models.CharField(max_length=100, blank=True, help_text="Worker of the last bake.")
    ready_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(
        null=True, blank=True, help_text="When the mail server took the ready email."
    )
    # Why the ready email still has not gone after the last retry (staff can send it again
    # from the admin). db_default: clones of the previous release, which do not know the
    # column, keep inserting orders during a rolling update.
    notification_error = models.TextField(
        blank=True, default="", db_default="", help_text="Ready email failed: why."
    )
    # The order's last job in the outbox (``orders.services``): the stuck-order sweep
    # measures "no progress" from when that job reached the broker, and never sends
    # again while it still waits in the outbox. Null for orders placed by the release
    # before this column, and once the relay prunes the job (a week after it was sent).
    job = models.ForeignKey(
        "jobs.OutboxMessage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
        help_text="The order's last baking job (in the outbox until it is sent).",
    )
    # The order form's token and what was ordered (``orders.forms``): the same form
    # sent twice, e.g. again after an error that left the first try unconfirmed, returns
    # this order instead of placing a second one.
    idempotency_key = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The daily cap per email address (``services._check_email_limit``).
            models.Index(Upper("customer_email"), "created_at", name="order_email_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.product} “{self.writing}” ({self.get_status_display()})"

    def get_absolute_url(self) -> str:
        return f"/orders/{self.uuid}/"
