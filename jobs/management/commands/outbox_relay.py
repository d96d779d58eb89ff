"""``manage.py outbox_relay``: run the outbox relay (see ``jobs.relay``)."""

import signal

from django.core.management.base import BaseCommand

from jobs.outbox import outbox_send_due
from jobs.relay import relay_forever


class Command(BaseCommand):
    help = "Send committed jobs the broker does not have yet; loop until SIGTERM."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="one batch, then exit")

    def handle(self, *args, once: bool, **options):
        if once:
            self.stdout.write(f"sent {outbox_send_due()} jobs")
            return
        stopping = []
        signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
        self.stdout.write("outbox relay running")
        relay_forever(should_stop=lambda: bool(stopping))
