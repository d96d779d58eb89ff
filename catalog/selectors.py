"""Reads of the catalog. Every function here runs a fixed number of queries.

``product_page_get`` assembles the whole product page as plain data (no model
instances), so the assembled object can be cached and shared between clones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import ClassVar

from django.conf import settings
from django.db.models import Avg, Count, F, Min, OuterRef, Prefetch, Q, QuerySet, Subquery, Window
from django.db.models.functions import RowNumber
from django.http import Http404
from django.utils import timezone

from catalog.models import Category, Picture, Price, Product, ProductText, Review

LATEST_REVIEWS = 5


@dataclass(frozen=True)
class PriceData:
    amount: Decimal
    currency: str
    valid_from: datetime

    def in_force(self, now: datetime) -> bool:
        return self.valid_from <= now


@dataclass(frozen=True)
class PictureData:
    url: str
    alt: str


@dataclass(frozen=True)
class TextData:
    language: str
    title: str
    body: str


@dataclass(frozen=True)
class ReviewData:
    author_name: str
    rating: int
    body: str
    created: datetime


@dataclass(frozen=True)
class ReviewSummary:
    count: int
    average: float | None


@dataclass(frozen=True)
class ProductPage:
    """Everything the product page shows, assembled from several queries.

    Cached whole (``catalog.page_cache``): bump ``CACHE_VERSION`` whenever the shape of
    this class or of its parts changes, so clones of the old and the new release keep
    separate cache entries during a rolling deploy.
    """

    CACHE_VERSION: ClassVar[int] = 1

    id: int
    slug: str
    name: str
    category_slug: str
    category_name: str
    prices: tuple[PriceData, ...]  # newest first, future ones included
    texts: tuple[TextData, ...]
    pictures: tuple[PictureData, ...]
    review_summary: ReviewSummary
    latest_reviews: tuple[ReviewData, ...]

    @property
    def current_price(self) -> PriceData | None:
        """Worked out when read, not when assembled: a cached page must switch to a
        scheduled price at its ``valid_from`` without being rebuilt."""
        now = timezone.now()
        return next((price for price in self.prices if price.in_force(now)), None)

    def text_for(self, language: str) -> TextData | None:
        """The text in ``language``, else the first one there is."""
        for text in self.texts:
            if text.language == language:
                return text
        return self.texts[0] if self.texts else None


def picture_url(image: str) -> str:
    """Picture paths are relative to MEDIA_URL unless they are full URLs."""
    from django.conf import settings

    if image.startswith(("http://", "https://", "/")):
        return image
    return f"{settings.MEDIA_URL}{image}"


def _current_price_subquery(field: str, *, now: datetime) -> Subquery:
    latest = Price.objects.filter(product=OuterRef("pk"), valid_from__lte=now).order_by(
        "-valid_from"
    )
    return Subquery(latest.values(field)[:1])


@dataclass(frozen=True)
class CategorySummary:
    """One category on the home page. Cached in lists (``caching.queries``): bump
    ``CACHE_VERSION`` whenever the shape of this class changes."""

    CACHE_VERSION: ClassVar[int] = 1

    slug: str
    name: str
    product_count: int


@dataclass(frozen=True)
class ProductRow:
    slug: str
    name: str
    price_amount: Decimal | None
    price_currency: str | None

    FIELDS: ClassVar[tuple[str, ...]] = ("slug", "name", "price_amount", "price_currency")


@dataclass(frozen=True)
class CategoryPage:
    """One page of a category's listing. Cached whole (``caching.queries``): bump
    ``CACHE_VERSION`` whenever the shape of this class or of ``ProductRow`` changes."""

    CACHE_VERSION: ClassVar[int] = 2

    slug: str
    name: str
    products: tuple[ProductRow, ...]
    # When a scheduled price of a listed product takes effect and the page must be
    # worked out again.
    next_price_change: datetime | None
    number: int = 1
    page_count: int = 1
    product_count: int = 0

    @property
    def previous_number(self) -> int | None:
        return self.number - 1 if self.number > 1 else None

    @property
    def next_number(self) -> int | None:
        return self.number + 1 if self.number < self.page_count else None


def category_list() -> list[CategorySummary]:
    """Categories with the number of published products in each (one query)."""
    categories = Category.objects.annotate(
        product_count=Count("products", filter=Q(products__published=True))
    ).order_by("name")
    return [CategorySummary(c.slug, c.name, c.product_count) for c in categories]


def products_with_current_price(*, now: datetime | None = None) -> QuerySet[Product]:
    """Published products, each annotated with ``price_amount`` and ``price_currency``:
    the price in force at ``now`` (the current time if omitted)."""
    now = now or timezone.now()
    return Product.objects.filter(published=True).annotate(
        price_amount=_current_price_subquery("amount", now=now),
        price_currency=_current_price_subquery("currency", now=now),
    )


def category_page_count(*, product_count: int) -> int:
    """How many pages a listing of ``product_count`` products has (an empty one has one)."""
    return max(1, math.ceil(product_count / settings.CATEGORY_PAGE_SIZE))


def category_page_get(*, slug: str, number: int = 1) -> CategoryPage:
    """Page ``number`` of a category's published products, by name, with their current
    prices (four queries); ``Http404`` for an unknown category or a page past the end.

    A deep page costs what the first does: the offset is walked in the listing index
    (category, published, name), and prices are looked up for the page's rows only.
    """
    try:
        category = Category.objects.get(slug=slug)
    except Category.DoesNotExist:
        raise Http404(f"No category {slug!r}.") from None
    size = settings.CATEGORY_PAGE_SIZE
    listed = Product.objects.filter(category=category, published=True)
    product_count = listed.count()
    page_count = category_page_count(product_count=product_count)
    if not 1 <= number <= page_count:
        raise Http404(f"No page {number} of category {slug!r}.")
    start = (number - 1) * size
    on_page = listed.order_by("name", "pk").values("pk")[start : start + size]
    # One moment for both questions: a price starting between two clock readings would
    # be neither current nor upcoming, and the listing would never switch to it.
    now = timezone.now()
    products = products_with_current_price(now=now).filter(pk__in=on_page).order_by("name", "pk")
    rows = tuple(ProductRow(**row) for row in products.values(*ProductRow.FIELDS))
    upcoming = Price.objects.filter(product__in=on_page, valid_from__gt=now).aggregate(
        first=Min("valid_from")
    )
    return CategoryPage(
        slug=category.slug,
        name=category.name,
        products=rows,
        next_price_change=upcoming["first"],
        number=number,
        page_count=page_count,
        product_count=product_count,
    )


def product_page_get(*, slug: str) -> ProductPage:
    """Assemble the page of a published product; ``Http404`` if there is none."""
    try:
        product = Product.objects.select_related("category").get(slug=slug, published=True)
    except Product.DoesNotExist:
        raise Http404(f"No product {slug!r}.") from None
    return product_page_assemble(product=product)


def product_page_assemble(*, product: Product) -> ProductPage:
    """Five queries (prices, texts, pictures, review summary, latest reviews), whatever
    the number of rows; ``product`` comes with its category already loaded."""
    reviews = Review.objects.filter(product=product)
    summary = reviews.aggregate(count=Count("id"), average=Avg("rating"))
    return _page(
        product=product,
        prices=Price.objects.filter(product=product).order_by("-valid_from"),
        texts=ProductText.objects.filter(product=product),
        pictures=Picture.objects.filter(product=product),
        summary=summary,
        latest=reviews.order_by("-created", "-id")[:LATEST_REVIEWS],
    )


def product_pages_get_many(*, slugs: list[str]) -> list[ProductPage]:
    """The pages of the published products among ``slugs``, in one go: six queries
    however many products (for prerendering the whole catalog)."""
    products = list(
        Product.objects.select_related("category")
        .filter(slug__in=slugs, published=True)
        .prefetch_related(
            Prefetch("prices", queryset=Price.objects.order_by("-valid_from")),
            Prefetch("texts", queryset=ProductText.objects.all()),
            Prefetch("pictures", queryset=Picture.objects.all()),
        )
    )
    ids = [product.pk for product in products]
    summaries = {
        row["product_id"]: row
        for row in Review.objects.filter(product_id__in=ids)
        .order_by()
        .values("product_id")
        .annotate(count=Count("id"), average=Avg("rating"))
    }
    latest: dict[int, list[Review]] = {}
    ranked = Review.objects.filter(product_id__in=ids).annotate(
        rank=Window(
            RowNumber(),
            partition_by=F("product_id"),
            order_by=[F("created").desc(), F("id").desc()],
        )
    )
    for review in ranked.filter(rank__lte=LATEST_REVIEWS).order_by("product_id", "rank"):
        latest.setdefault(review.product_id, []).append(review)
    return [
        _page(
            product=product,
            prices=product.prices.all(),
            texts=product.texts.all(),
            pictures=product.pictures.all(),
            summary=summaries.get(product.pk, {"count": 0, "average": None}),
            latest=latest.get(product.pk, []),
        )
        for product in products
    ]


def _page(*, product: Product, prices, texts, pictures, summary, latest) -> ProductPage:
    return ProductPage(
        id=product.pk,
        slug=product.slug,
        name=product.name,
        category_slug=product.category.slug,
        category_name=product.category.name,
        prices=tuple(
            PriceData(amount=p.amount, currency=p.currency, valid_from=p.valid_from) for p in prices
        ),
        texts=tuple(TextData(language=t.language, title=t.title, body=t.body) for t in texts),
        pictures=tuple(PictureData(url=picture_url(p.image), alt=p.alt) for p in pictures),
        review_summary=ReviewSummary(
            count=summary["count"],
            average=round(summary["average"], 1) if summary["average"] is not None else None,
        ),
        latest_reviews=tuple(
            ReviewData(author_name=r.author_name, rating=r.rating, body=r.body, created=r.created)
            for r in latest
        ),
    )
