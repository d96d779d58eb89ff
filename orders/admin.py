from django.contrib import admin, messages

from jobs.selectors import job_queue_figures
from orders import services
from orders.models import SpecialOrder
from orders.selectors import special_order_queue_figures


@admin.register(SpecialOrder)
class SpecialOrderAdmin(admin.ModelAdmin):
    list_display = [
        "uuid",
        "product",
        "writing",
        "pickup_date",
        "status",
        "attempts",
        "created_at",
        "ready_at",
    ]
    list_filter = ["status", "pickup_date"]
    list_select_related = ["product"]
    search_fields = ["uuid", "customer_email", "writing", "product__name"]
    autocomplete_fields = ["product"]
    readonly_fields = [
        "uuid",
        "status",
        "failure_reason",
        "image",
        "attempts",
        "baker",
        "ready_at",
        "notified_at",
        "created_at",
        "updated_at",
    ]
    date_hierarchy = "created_at"
    actions = ["retry_failed"]

    def changelist_view(self, request, extra_context=None):
        queue = {"orders": special_order_queue_figures(), "jobs": job_queue_figures()}
        return super().changelist_view(request, {**(extra_context or {}), "queue": queue})

    @admin.action(description="Bake the selected FAILED orders again")
    def retry_failed(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        requeued = sum(services.special_order_retry(order_id=pk) for pk in ids)
        skipped = len(ids) - requeued
        self.message_user(request, f"{requeued} order(s) queued again.", messages.SUCCESS)
        if skipped:
            self.message_user(
                request,
                f"{skipped} order(s) were not FAILED and were left alone.",
                messages.WARNING,
            )
