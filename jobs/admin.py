from django.contrib import admin
from django_dramatiq.models import Task

from jobs.models import OutboxMessage

# django-dramatiq's task log needs its AdminMiddleware (a write per message state); the
# outbox and each job's own rows (e.g. a special order's status) are our record instead.
admin.site.unregister(Task)


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """Read-only: rows are written by services and sent by the fast path or the relay."""

    list_display = ["created_at", "actor_name", "args", "sent_at", "attempts", "last_error"]
    list_filter = [("sent_at", admin.EmptyFieldListFilter), "actor_name", "queue_name"]
    search_fields = ["message_id", "actor_name"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
