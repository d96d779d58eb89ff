from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Special orders"

    def ready(self) -> None:
        from jobs.sweeps import sweep_register
        from orders import checks  # noqa: F401  (registers the cake font's check)

        # A job can be lost for good (dead-lettered while the database was down): the
        # outbox relay sends the job of such an order again (``jobs.sweeps``).
        sweep_register(
            name="special orders stuck in the oven",
            path="orders.services.special_orders_resend_stuck",
            every_seconds=60,
        )
