from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Special orders"

    def ready(self) -> None:
        from orders import checks  # noqa: F401  (registers the cake font's check)
