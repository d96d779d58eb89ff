from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Catalog"

    def ready(self) -> None:
        from caching.tracking import track
        from catalog.cache import pages  # noqa: F401  (registers the product page's cache)
        from catalog.models import Category, Picture, Price, Product, ProductText, Review

        # A product's page shows its prices, pictures, texts, reviews and category's name.
        track(owner=Product, parts=[Price, Picture, ProductText, Review], groups=[Category])
