from django.contrib import admin

from catalog import services
from catalog.models import Category, Picture, Price, Product, ProductText, Review


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


class ProductPartInline(admin.TabularInline):
    """A part of the product, edited on its page; no empty rows until asked for."""

    extra = 0


class PriceInline(ProductPartInline):
    model = Price


class PictureInline(ProductPartInline):
    model = Picture


class ProductTextInline(admin.StackedInline):
    model = ProductText
    extra = 0


class ReviewInline(ProductPartInline):
    model = Review
    ordering = ["-created"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "category", "published", "updated_at"]
    list_filter = ["published", "category"]
    list_select_related = ["category"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [PriceInline, ProductTextInline, PictureInline, ReviewInline]
    actions = ["publish", "unpublish"]

    @admin.action(description="Publish the selected products")
    def publish(self, request, queryset):
        changed = services.products_publish_set(
            product_ids=queryset.values_list("pk", flat=True), published=True
        )
        self.message_user(request, f"Published {changed} product(s).")

    @admin.action(description="Unpublish the selected products")
    def unpublish(self, request, queryset):
        changed = services.products_publish_set(
            product_ids=queryset.values_list("pk", flat=True), published=False
        )
        self.message_user(request, f"Unpublished {changed} product(s).")


@admin.register(Price)
class PriceAdmin(admin.ModelAdmin):
    list_display = ["product", "amount", "currency", "valid_from"]
    list_filter = ["currency"]
    list_select_related = ["product"]
    search_fields = ["product__name", "product__slug"]
    autocomplete_fields = ["product"]
    date_hierarchy = "valid_from"


@admin.register(Picture)
class PictureAdmin(admin.ModelAdmin):
    list_display = ["product", "alt", "image", "order"]
    list_select_related = ["product"]
    search_fields = ["product__name", "alt"]
    autocomplete_fields = ["product"]


@admin.register(ProductText)
class ProductTextAdmin(admin.ModelAdmin):
    list_display = ["product", "language", "title"]
    list_filter = ["language"]
    list_select_related = ["product"]
    search_fields = ["product__name", "title", "body"]
    autocomplete_fields = ["product"]


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ["product", "author_name", "rating", "created"]
    list_filter = ["rating"]
    list_select_related = ["product"]
    search_fields = ["product__name", "author_name", "body"]
    autocomplete_fields = ["product"]
    date_hierarchy = "created"
