from django.contrib import admin, messages

from jobs.selectors import job_queue_figures
from orders import services
from orders.actors import STUCK_AFTER
from orders.errors import OrderBusyError
from orders.models import SpecialOrder
from orders.selectors import special_order_queue_figures

STUCK_MINUTES = round(STUCK_AFTER.total_seconds() / 60)


@admin.register(SpecialOrder)
class SpecialOrderAdmin(admin.ModelAdmin):
    """Orders are placed by customers (with their baking job) and changed by workers;
    staff read them and act on them through the actions, never by editing fields: the
    baked picture must match the writing, and an order saved here would have no job."""

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
    readonly_fields = [
        "uuid",
        "product",
        "writing",
        "pickup_date",
        "customer_email",
        "status",
        "failure_reason",
        "image",
        "attempts",
        "baker",
        "ready_at",
        "notified_at",
        "notification_error",
        "job",
        "created_at",
        "updated_at",
    ]
    date_hierarchy = "created_at"
    actions = ["retry", "email_again"]

    def has_add_permission(self, request):
        return False

    def changelist_view(self, request, extra_context=None):
        queue = {"orders": special_order_queue_figures(), "jobs": job_queue_figures()}
        return super().changelist_view(request, {**(extra_context or {}), "queue": queue})

    # Short labels: the actions select is as wide as its longest one (the page's CSS keeps
    # it inside the list, templates/admin/orders/specialorder/change_list.html).
    @admin.action(
        description=f"Bake again from the start: FAILED, or stuck {STUCK_MINUTES}+ minutes"
    )
    def retry(self, request, queryset):
        self._each(
            request, queryset, services.special_order_retry, "queued again", "FAILED or stuck"
        )

    @admin.action(description="Email the customers of READY orders again")
    def email_again(self, request, queryset):
        self._each(
            request, queryset, services.special_order_email_again, "will be emailed again", "READY"
        )

    def _each(self, request, queryset, service, done: str, required: str) -> None:
        """Run ``service(order_id=…)`` on each selected order and say how many it took.

        An order a worker holds right now (baking it, or waiting for the mail server) is
        skipped at once rather than waited for (``OrderBusyError``), and counted apart.
        """
        ids = list(queryset.values_list("pk", flat=True))
        taken = busy = 0
        for pk in ids:
            try:
                taken += service(order_id=pk)
            except OrderBusyError:
                busy += 1
        self.message_user(request, f"{taken} order(s) {done}.", messages.SUCCESS)
        if busy:
            self.message_user(
                request,
                f"{busy} order(s) are being baked or emailed right now and were left alone; "
                "try them again in a minute.",
                messages.WARNING,
            )
        if len(ids) > taken + busy:
            self.message_user(
                request,
                f"{len(ids) - taken - busy} order(s) were not {required} and were left alone.",
                messages.WARNING,
            )
