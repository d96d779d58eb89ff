"""``manage.py bench_special_orders``: the special-order figures of `make bench`, as JSON."""

import json

from django.core.management.base import BaseCommand, CommandError

from orders import bench


class Command(BaseCommand):
    help = (
        "Time special orders with a trivial bake through the real outbox, broker and "
        "workers (jobs/s, placement to READY), and a SIGKILLed worker's order; print JSON."
    )

    def add_arguments(self, parser):
        parser.add_argument("--burst", type=int, default=200, help="orders committed at once")
        parser.add_argument("--paced", type=int, default=50, help="orders timed one by one")
        parser.add_argument("--per-second", type=float, default=10.0, help="pace of --paced")
        parser.add_argument("--timeout", type=float, default=120.0, help="seconds to READY")
        parser.add_argument("--no-kill", action="store_true", help="skip the SIGKILL drill")

    def handle(self, *args, burst, paced, per_second, timeout, no_kill, **options):
        if burst < 1 or paced < 1 or per_second <= 0:
            raise CommandError("--burst and --paced must be 1 or more, --per-second above 0")
        try:
            latencies = bench.special_orders_latency(
                orders=paced, per_second=per_second, timeout=timeout
            )
            figures = {
                "jobs_per_second": bench.special_orders_throughput(orders=burst, timeout=timeout),
                "burst": burst,
                "paced": paced,
                "p50_ms": bench.percentile(latencies, 0.5),
                "p99_ms": bench.percentile(latencies, 0.99),
                "kill_to_ready_s": (
                    None if no_kill else bench.special_order_kill_drill(timeout=timeout)
                ),
            }
        except bench.BenchError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(json.dumps(figures))
