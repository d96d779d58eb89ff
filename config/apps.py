from django.apps import AppConfig


class ConfigConfig(AppConfig):
    """Registers the project's system checks; holds no models."""

    name = "config"
    verbose_name = "Cluster configuration"

    def ready(self) -> None:
        from config import checks  # noqa: F401  (registers the checks)
