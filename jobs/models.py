"""The transactional outbox: a job is a row written with the data it is about."""

import uuid

from django.db import models


class OutboxMessage(models.Model):
    """One Dramatiq message, committed with the write it is about and sent after commit.

    ``sent_at`` stays empty until the broker has the message; the relay sends every row
    still empty, so a broker outage or a process dying after commit delays a job but
    never loses it. The Dramatiq message id is ``message_id``, the same on every send.
    """

    message_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    actor_name = models.CharField(max_length=200)
    queue_name = models.CharField(max_length=200)
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0, help_text="Failed sends so far.")
    last_error = models.TextField(blank=True)
    # The request that recorded the job (core.request_id): its worker logs it too. A
    # default in the database too: clones of the previous release insert without it.
    request_id = models.CharField(max_length=128, blank=True, default="", db_default="")

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=models.Q(sent_at__isnull=True),
                name="jobs_outbox_unsent",
            )
        ]

    def __str__(self) -> str:
        return f"{self.actor_name}{tuple(self.args)} {'sent' if self.sent_at else 'unsent'}"
