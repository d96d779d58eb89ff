"""``manage.py outbox_relay``: run the outbox relay (see ``jobs.relay``)."""

import signal

from django.core.management.base import BaseCommand

from jobs.outbox import outbox_send_due
from jobs.relay import relay_forever
from jobs.sweeps import sweep_run, sweeps_configured


class Command(BaseCommand):
    help = (
        "Send committed jobs the broker does not have yet, and run the apps' periodic "
        "sweeps; loop until SIGTERM."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="one batch and sweep, then exit")

    def handle(self, *args, once: bool, **options):
        if once:
            for sweep in sweeps_configured():
                self.stdout.write(f"sweep {sweep.name!r}: {sweep_run(sweep)} fixed")
            self.stdout.write(f"sent {outbox_send_due()} jobs")
            return
        stopping = []
        signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
        self.stdout.write("outbox relay running")
        relay_forever(should_stop=lambda: bool(stopping))
