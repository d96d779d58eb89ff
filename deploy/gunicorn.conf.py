"""gunicorn settings shared by every clone (local cluster and systemd units).

The bind address comes from the command line; everything else can be tuned through the
environment without editing this file.
"""

import os
import shutil
import sys

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


def post_fork(server, worker):
    """Pin the new worker to the release its clone's link points at now.

    gunicorn puts ``--chdir`` (the clone's link, RUN_DIR/running/<clone>) on sys.path; a
    rollout swaps the link and sends SIGHUP, and this worker, finishing its last requests,
    must not import a module of the next release.
    """
    link = server.cfg.chdir
    sys.path[:] = [os.path.realpath(p) if p == link else p for p in sys.path]


def post_worker_init(worker):
    """Tell the rollout this worker has loaded the app (deploy/handover.py waits for it)."""
    worker.log.info("Worker ready (pid: %s)", worker.pid)


def on_starting(server):
    """Prometheus: the clone starts with no counter files of its earlier workers. Only the
    standard library here: what the master imports, every worker inherits, and a worker
    handed a new release must not run an old release's module (deploy/handover.py)."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        return
    os.makedirs(directory, exist_ok=True)
    for entry in os.scandir(directory):
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path)
        else:
            os.unlink(entry.path)


def child_exit(server, worker):
    """Prometheus: a worker gone no longer counts in live gauges (its counters stay)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess  # a library of the venv, not the release

        multiprocess.mark_process_dead(worker.pid)
