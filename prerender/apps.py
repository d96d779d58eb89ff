from django.apps import AppConfig


class PrerenderConfig(AppConfig):
    name = "prerender"
    verbose_name = "Prerendered pages"

    def ready(self) -> None:
        from prerender import subscriptions  # noqa: F401  (connects receivers)
