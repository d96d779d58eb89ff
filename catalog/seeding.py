"""Realistic, deterministic demo data for the catalog, fast enough for 10,000 products.

Rows are written with ``bulk_create`` in batches; the same ``seed`` always gives the
same catalog. Each category gets one generated picture in media storage.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal
from io import BytesIO

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify
from PIL import Image, ImageDraw

from caching.changes import changed_on_commit
from catalog.models import Category, Picture, Price, Product, ProductText, Review

BATCH = 2000

CATEGORIES = {
    "Cakes": ((233, 173, 160), ["cake", "gateau", "torte", "layer cake"]),
    "Breads": ((214, 176, 120), ["loaf", "sourdough", "baguette", "rye bread"]),
    "Pastries": ((240, 205, 140), ["croissant", "danish", "eclair", "turnover"]),
    "Cookies": ((190, 140, 100), ["cookie", "biscuit", "shortbread", "macaron"]),
    "Tarts": ((225, 150, 120), ["tart", "tartlet", "pie", "galette"]),
    "Seasonal": ((200, 120, 110), ["stollen", "panettone", "king cake", "hot cross bun"]),
}
FLAVOURS = [
    "almond",
    "apple",
    "apricot",
    "blueberry",
    "caramel",
    "cardamom",
    "cherry",
    "chestnut",
    "chocolate",
    "cinnamon",
    "coconut",
    "coffee",
    "hazelnut",
    "honey",
    "lemon",
    "lime",
    "mango",
    "maple",
    "orange",
    "passion fruit",
    "peach",
    "pear",
    "pecan",
    "pistachio",
    "plum",
    "poppy seed",
    "pumpkin",
    "raspberry",
    "rhubarb",
    "rose",
    "sesame",
    "strawberry",
    "toffee",
    "vanilla",
    "walnut",
    "white chocolate",
]
STYLES = ["classic", "rustic", "double", "glazed", "spiced", "toasted", "light", "grandma's"]
REVIEW_LINES = [
    "Perfect for a birthday, everyone asked where it came from.",
    "Fresh, generous and not too sweet.",
    "A little dry the second day, still good with coffee.",
    "The best in town, I come back every week.",
    "Beautiful to look at; the taste did not quite match.",
    "Exactly as described. Friendly staff too.",
    "Ordered it twice this month. No regrets.",
]
AUTHORS = ["Ana", "Ben", "Chloé", "Dario", "Emma", "Femi", "Greta", "Hiro", "Ines", "Jonas"]


def catalog_seed(
    *,
    products: int,
    reviews_per_product: int,
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Add ``products`` products (with prices, texts, pictures, reviews); return how many.

    ``progress`` is called with the number of products written after each batch.
    """
    rng = random.Random(seed)
    now = timezone.now()
    with transaction.atomic():
        categories = _categories_ensure()
        start = Product.objects.count()
        last_pk = Product.objects.aggregate(last=Max("pk"))["last"] or 0
        for batch in _batches(range(start, start + products), BATCH):
            _product_batch_create(
                rng=rng,
                numbers=batch,
                categories=categories,
                reviews_per_product=reviews_per_product,
                now=now,
            )
            if progress:
                progress(len(batch))
        # bulk_create sends no model signals: announce the new rows ourselves, each new
        # product by id too (per-product listeners, e.g. the Mongo projection).
        changed_on_commit(
            owner=Product,
            ids=Product.objects.filter(pk__gt=last_pk).values_list("pk", flat=True),
            models=[Category, Product, Price, ProductText, Picture, Review],
        )
    return products


def catalog_clear() -> None:
    """Delete every product and category (prices, texts, pictures, reviews go with them)."""
    with transaction.atomic():
        Product.objects.all().delete()
        Category.objects.all().delete()


def _categories_ensure() -> list[tuple[Category, str, list[str]]]:
    result = []
    for name, (colour, kinds) in CATEGORIES.items():
        category, _ = Category.objects.get_or_create(slug=slugify(name), defaults={"name": name})
        image = f"catalog/{category.slug}.png"
        if not default_storage.exists(image):
            default_storage.save(image, ContentFile(cake_picture(colour)))
        result.append((category, image, kinds))
    return result


def _product_batch_create(
    *,
    rng: random.Random,
    numbers: list[int],
    categories: list[tuple[Category, str, list[str]]],
    reviews_per_product: int,
    now,
) -> None:
    rows = []
    for number in numbers:
        category, image, kinds = categories[number % len(categories)]
        name = f"{rng.choice(STYLES).capitalize()} {rng.choice(FLAVOURS)} {rng.choice(kinds)}"
        product = Product(
            slug=f"{slugify(name)}-{number + 1}",
            name=name,
            category=category,
            published=rng.random() > 0.03,
        )
        rows.append((product, image))
    Product.objects.bulk_create([product for product, _ in rows])

    prices, texts, pictures, reviews = [], [], [], []
    for product, image in rows:
        prices += _prices(rng, product=product, now=now)
        texts.append(_text(rng, product=product))
        pictures.append(Picture(product=product, image=image, alt=product.name, order=0))
        reviews += _reviews(rng, product=product, count=reviews_per_product, now=now)
    Price.objects.bulk_create(prices, batch_size=BATCH)
    ProductText.objects.bulk_create(texts, batch_size=BATCH)
    Picture.objects.bulk_create(pictures, batch_size=BATCH)
    Review.objects.bulk_create(reviews, batch_size=BATCH)


def _prices(rng: random.Random, *, product: Product, now) -> list[Price]:
    """A price for months now, and for some products a raise in the last few weeks."""
    base = Decimal(rng.randrange(250, 4500)) / 100
    since = now - timedelta(days=rng.randrange(60, 400))
    prices = [Price(product=product, amount=base, valid_from=since)]
    if rng.random() < 0.3:
        raised = (base * Decimal("1.08")).quantize(Decimal("0.01"))
        since = now - timedelta(days=rng.randrange(1, 59))
        prices.append(Price(product=product, amount=raised, valid_from=since))
    return prices


def _text(rng: random.Random, *, product: Product) -> ProductText:
    return ProductText(
        product=product,
        language="en",
        title=product.name,
        body=f"Our {product.name.lower()}, baked every morning with {rng.choice(FLAVOURS)} "
        "and butter from the valley. Ask us about custom writing.",
    )


def _reviews(rng: random.Random, *, product: Product, count: int, now) -> list[Review]:
    return [
        Review(
            product=product,
            author_name=rng.choice(AUTHORS),
            rating=rng.choices([1, 2, 3, 4, 5], weights=[1, 1, 3, 6, 8])[0],
            body=rng.choice(REVIEW_LINES),
            created=now - timedelta(minutes=rng.randrange(1, 500_000)),
        )
        for _ in range(count)
    ]


def cake_picture(colour: tuple[int, int, int]) -> bytes:
    """A simple drawn cake on a plate, 640×480 PNG: the canvas special orders write on."""
    image = Image.new("RGB", (640, 480), (255, 250, 243))
    draw = ImageDraw.Draw(image)
    draw.ellipse((70, 360, 570, 440), fill=(230, 225, 220))
    darker = tuple(int(c * 0.8) for c in colour)
    draw.rectangle((120, 200, 520, 390), fill=colour)
    draw.ellipse((120, 350, 520, 420), fill=colour)
    draw.ellipse((120, 160, 520, 240), fill=tuple(min(255, c + 25) for c in colour))
    draw.rectangle((120, 290, 520, 300), fill=darker)
    buffer = BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _batches(numbers: range, size: int) -> Iterator[list[int]]:
    for first in range(numbers.start, numbers.stop, size):
        yield list(range(first, min(first + size, numbers.stop)))
