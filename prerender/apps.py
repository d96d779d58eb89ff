from django.apps import AppConfig


class PrerenderConfig(AppConfig):
    name = "prerender"
    verbose_name = "Prerendered pages"

    def ready(self) -> None:
        from jobs.sweeps import sweep_register
        from prerender import subscriptions  # noqa: F401  (connects receivers)

        # Pages whose re-render job was lost are rendered again; the nightly build is
        # started by whichever relay first sees its time come (``prerender.nightly``).
        sweep_register(
            name="prerendered pages still out of service",
            path="prerender.services.pages_pending_resend",
            every_seconds=30,
        )
        sweep_register(
            name="nightly prerender build",
            path="prerender.nightly.nightly_build_if_due",
            every_seconds=60,
        )
