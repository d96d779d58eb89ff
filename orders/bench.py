"""The special-order tier of `make bench` (``manage.py bench_special_orders``).

Why and how: ``docs/lessons/4.2-special-orders.md``."""

from __future__ import annotations

import os
import signal
import statistics
import time
import uuid
from datetime import timedelta

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from catalog.models import Product
from orders import services
from orders.errors import OrdersError
from orders.models import SpecialOrder
from replication.databases import PRIMARY

Status = SpecialOrder.Status
POLL_SECONDS = 0.02


class BenchError(OrdersError):
    """A bench order did not become READY in time, or failed."""


def _place(product: Product, writing: str, *, trivial_bake: bool = True) -> SpecialOrder:
    return services.special_order_place(
        product=product,
        writing=writing,
        pickup_date=timezone.localdate() + timedelta(days=2),
        # An address per order: the daily cap per address is for shoppers, not the bench.
        customer_email=f"bench-{uuid.uuid4().hex[:12]}@localhost",
        trivial_bake=trivial_bake,
    )


def _on_primary(order_ids: list[int]):
    return SpecialOrder.objects.using(PRIMARY).filter(pk__in=order_ids)


def _wait_until_ready(order_ids: list[int], *, timeout: float) -> list[SpecialOrder]:
    """The orders once every one is READY; BenchError when one fails or time runs out.

    Polled with one small COUNT query: reading every row each time would load the
    primary that the workers bake on, and slow down what is being measured."""
    deadline = time.monotonic() + timeout
    orders = _on_primary(order_ids)
    while True:
        counts = orders.aggregate(
            waiting=Count("pk", filter=~Q(status=Status.READY)),
            failed=Count("pk", filter=Q(status=Status.FAILED)),
        )
        if counts["failed"]:
            raise BenchError("a bench order FAILED: see the worker logs")
        if not counts["waiting"]:
            return list(orders.only("pk", "created_at", "ready_at"))
        if time.monotonic() > deadline:
            raise BenchError(f"{counts['waiting']} bench orders not READY after {timeout:.0f} s")
        time.sleep(POLL_SECONDS)


def _delete(order_ids: list[int]) -> None:
    for image in _on_primary(order_ids).exclude(image="").values_list("image", flat=True):
        default_storage.delete(image)
    _on_primary(order_ids).delete()


def _published_product() -> Product:
    product = Product.objects.using(PRIMARY).filter(published=True).order_by("pk").first()
    if product is None:
        raise BenchError("no published product to order: seed the catalog first")
    return product


def special_orders_throughput(*, orders: int, timeout: float) -> float:
    """Jobs per second: ``orders`` orders committed in one transaction, from the first
    placement to the last READY."""
    product, order_ids = _published_product(), []
    try:
        started = timezone.now()
        with transaction.atomic():
            order_ids = [_place(product, f"Bench {n}").pk for n in range(orders)]
        baked = _wait_until_ready(order_ids, timeout=timeout)
        last = max(o.ready_at for o in baked if o.ready_at is not None)
        return orders / max((last - started).total_seconds(), 1e-6)
    finally:
        _delete(order_ids)


def special_orders_latency(*, orders: int, per_second: float, timeout: float) -> list[float]:
    """Each order's milliseconds from placement to READY, sorted; ``orders`` placed one
    at a time, ``per_second`` of them a second (well below the workers' throughput)."""
    product, order_ids = _published_product(), []
    try:
        for n in range(orders):
            order_ids.append(_place(product, f"Bench {n}").pk)
            time.sleep(1 / per_second)
        baked = _wait_until_ready(order_ids, timeout=timeout)
        return sorted(
            1000 * (o.ready_at - o.created_at).total_seconds()
            for o in baked
            if o.ready_at is not None
        )
    finally:
        _delete(order_ids)


def special_order_kill_drill(*, timeout: float) -> float:
    """Seconds from SIGKILLing the worker process baking an order (a real bake, with
    oven time) to that order being READY, baked again after redelivery."""
    order_ids = [_place(_published_product(), "Bench SIGKILL", trivial_bake=False).pk]
    try:
        deadline = time.monotonic() + timeout
        while not (baking := _on_primary(order_ids).filter(status=Status.BAKING).first()):
            if time.monotonic() > deadline:
                raise BenchError(f"the drill's order was not BAKING after {timeout:.0f} s")
            time.sleep(POLL_SECONDS)
        pid = int(baking.baker.rsplit("/", 1)[1])  # "worker-N/<pid of the baking process>"
        os.kill(pid, signal.SIGKILL)
        killed = time.monotonic()
        _wait_until_ready(order_ids, timeout=timeout)
        return time.monotonic() - killed
    finally:
        _delete(order_ids)


def percentile(sorted_values: list[float], fraction: float) -> float:
    """The value below which ``fraction`` of ``sorted_values`` lie (nearest rank)."""
    if fraction == 0.5:
        return statistics.median(sorted_values)
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]
