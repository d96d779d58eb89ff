"""factory_boy factories for every model the tests build."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from catalog.models import Category, Picture, Price, Product, ProductText, Review
from orders.models import SpecialOrder


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    name = factory.Sequence(lambda n: f"Cake {n}")
    slug = factory.Sequence(lambda n: f"cake-{n}")
    category = factory.SubFactory(CategoryFactory)
    published = True


class PriceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Price

    product = factory.SubFactory(ProductFactory)
    amount = Decimal("12.50")
    currency = "EUR"
    valid_from = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))


PICTURE_IMAGE = "catalog/cakes.png"  # tests/conftest.py writes it into each test's MEDIA_ROOT


class PictureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Picture

    product = factory.SubFactory(ProductFactory)
    image = PICTURE_IMAGE
    alt = factory.Sequence(lambda n: f"Picture {n}")
    order = factory.Sequence(int)


class ProductTextFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductText

    product = factory.SubFactory(ProductFactory)
    language = "en"
    title = factory.LazyAttribute(lambda text: text.product.name)
    body = "Baked this morning."


class ReviewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Review

    product = factory.SubFactory(ProductFactory)
    author_name = factory.Faker("first_name")
    rating = 5
    body = "Lovely."


class SpecialOrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SpecialOrder

    product = factory.SubFactory(ProductFactory)
    writing = "Happy birthday"
    pickup_date = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=2))
    customer_email = "customer@example.com"


def admin_price_form(product: Product, amount: str) -> dict[str, object]:
    """What the admin's "add price" form posts: ``amount`` EUR for ``product``, in force
    from a minute ago (the form's seconds are whole: "now" could still be ahead)."""
    valid_from = timezone.now() - timedelta(minutes=1)
    return {
        "product": product.pk,
        "amount": amount,
        "currency": "EUR",
        "valid_from_0": valid_from.strftime("%Y-%m-%d"),
        "valid_from_1": valid_from.strftime("%H:%M:%S"),
    }
