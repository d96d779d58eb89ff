from django.apps import AppConfig


class CachingConfig(AppConfig):
    name = "caching"
    verbose_name = "Caching"

    def ready(self) -> None:
        from caching import invalidation  # noqa: F401  (connects receivers, declares its job)
