"""gunicorn settings shared by every clone (local cluster and systemd units).

The bind address comes from the command line; everything else can be tuned through the
environment without editing this file.
"""

import os

workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
worker_class = "sync"
# SIGTERM lets in-flight requests finish for up to graceful_timeout seconds; supervisor's
# stopwaitsecs and systemd's TimeoutStopSec are longer, so a stop is never cut short.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "25"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
keepalive = 5
# Heartbeat files on tmpfs: a worker on a slow disk is not mistaken for a hung one.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108 - tmpfs, by design
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None  # nginx keeps the access log
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
proc_name = f"scaleshop-{os.environ.get('SHOP_CLONE', 'clone')}"
# Trust X-Forwarded-* only from the load balancer on this host.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
# gunicorn >= 25 opens a control socket at a per-user default path that every clone on the
# host would share; supervisor/systemd manage the clones, so it is off unless asked for.
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET", "")
control_socket_disable = not control_socket


def on_starting(server) -> None:
    """Prometheus: the clone starts with no counter files of its earlier workers."""
    from config.stats import multiprocess_dir_empty

    multiprocess_dir_empty()


def child_exit(server, worker) -> None:
    """Prometheus: a worker gone no longer counts in live gauges (its counters stay)."""
    from prometheus_client import multiprocess

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
