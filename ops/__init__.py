"""Operating the clones: ``/healthz``, Prometheus metrics, the admin's Scaling page, error pages,
Sentry. Sits above the machinery it reports on."""
