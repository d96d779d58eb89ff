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
    list_filter = ["status", ("notified_at", admin.EmptyFieldListFilter), "pickup_date"]
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
        "notification_error",
        "created_at",
        "updated_at",
    ]
    date_hierarchy = "created_at"
    actions = ["retry_failed", "email_again"]

    def changelist_view(self, request, extra_context=None):
        queue = {"orders": special_order_queue_figures(), "jobs": job_queue_figures()}
        return super().changelist_view(request, {**(extra_context or {}), "queue": queue})

    @admin.action(description="Bake the selected FAILED orders again")
    def retry_failed(self, request, queryset):
        self._each(request, queryset, services.special_order_retry, "queued again", "FAILED")

    @admin.action(description="Email the customers of the selected READY orders again")
    def email_again(self, request, queryset):
        self._each(
            request, queryset, services.special_order_email_again, "will be emailed again", "READY"
        )

    def _each(self, request, queryset, service, done: str, required: str) -> None:
        """Run ``service(order_id=…)`` on each selected order and say how many it took."""
        ids = list(queryset.values_list("pk", flat=True))
        taken = sum(service(order_id=pk) for pk in ids)
        self.message_user(request, f"{taken} order(s) {done}.", messages.SUCCESS)
        if len(ids) > taken:
            self.message_user(
                request,
                f"{len(ids) - taken} order(s) were not {required} and were left alone.",
                messages.WARNING,
            )
