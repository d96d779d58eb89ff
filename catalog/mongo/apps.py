from django.apps import AppConfig


class CatalogMongoConfig(AppConfig):
    name = "catalog.mongo"
    label = "catalog_mongo"
    verbose_name = "Catalog read model (MongoDB)"

    def ready(self) -> None:
        from catalog.mongo import subscriptions  # noqa: F401  (connects receivers)
