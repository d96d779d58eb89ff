from django.contrib import admin

from orders.models import SpecialOrder


@admin.register(SpecialOrder)
class SpecialOrderAdmin(admin.ModelAdmin):
    list_display = ["uuid", "product", "writing", "pickup_date", "status", "created_at"]
    list_filter = ["status", "pickup_date"]
    list_select_related = ["product"]
    search_fields = ["uuid", "customer_email", "writing", "product__name"]
    autocomplete_fields = ["product"]
    readonly_fields = ["uuid", "created_at", "updated_at"]
    date_hierarchy = "created_at"
