"""``manage.py run_worker``: a Dramatiq worker with fresh metrics (django-dramatiq's
``rundramatiq``, after emptying the worker's ``PROMETHEUS_MULTIPROC_DIR``)."""

from django.core.management import call_command
from django.core.management.base import BaseCommand

from core.stats import multiprocess_dir_empty


class Command(BaseCommand):
    help = "Empty this worker's Prometheus directory, then run `rundramatiq` (same options)."

    def add_arguments(self, parser):
        parser.add_argument("--processes", type=int, required=True)
        parser.add_argument("--threads", type=int, required=True)

    def handle(self, *args, processes: int, threads: int, **options):
        multiprocess_dir_empty()
        call_command("rundramatiq", processes=processes, threads=threads)  # execs dramatiq
