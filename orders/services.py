"""Writes of special orders."""

from datetime import date

from django.db import transaction

from catalog.models import Product
from orders.models import SpecialOrder


@transaction.atomic
def special_order_place(
    *, product: Product, writing: str, pickup_date: date, customer_email: str
) -> SpecialOrder:
    """Record a special order as QUEUED. (Workers that bake it arrive with the queue.)"""
    return SpecialOrder.objects.create(
        product=product,
        writing=writing,
        pickup_date=pickup_date,
        customer_email=customer_email,
    )
