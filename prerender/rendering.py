"""Rendering pages ahead of time: the very response a clone would give, as bytes.

Why and how: ``docs/lessons/4.1-bake-at-night.md``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone

from catalog import views
from catalog.selectors import (
    ProductPage,
    category_list,
    category_page_get,
    product_pages_get_many,
)

BATCH = 200  # products per batch of queries


@dataclass(frozen=True)
class Rendered:
    """One page: ``body`` None when it must not be prerendered (gone, or dynamic)."""

    path: str
    body: bytes | None


def _request(path: str) -> HttpRequest:
    request = HttpRequest()
    request.method = "GET"
    request.path = request.path_info = path
    request.META = {"SERVER_NAME": "localhost", "SERVER_PORT": "80"}
    return request


def _body(response: HttpResponse) -> bytes:
    return response.content


def _scheduled(page: ProductPage) -> bool:
    now = timezone.now()
    return any(price.valid_from > now for price in page.prices)


def products_render(slugs: list[str]) -> tuple[list[Rendered], list[ProductPage]]:
    """Product pages of ``slugs`` (batched queries), and the pages that were read."""
    out: list[Rendered] = []
    pages: list[ProductPage] = []
    for start in range(0, len(slugs), BATCH):
        chunk = slugs[start : start + BATCH]
        found = {page.slug: page for page in product_pages_get_many(slugs=chunk)}
        pages += found.values()
        for slug in chunk:
            page = found.get(slug)
            path = product_path(slug)
            if page is None or _scheduled(page):
                out.append(Rendered(path, None))
            else:
                out.append(Rendered(path, _body(views.product_response(_request(path), page))))
    return out, pages


def page_render(path: str) -> Rendered:
    """A home page or a page of a category's listing; None body if there is no such page
    (a listing page past the end, since products left it)."""
    try:
        match = resolve(path)
    except Resolver404:
        return Rendered(path, None)
    try:
        if match.url_name == "home":
            return Rendered(path, _body(views.home_response(_request(path), category_list())))
        if match.url_name in ("category", "category-page"):
            page = category_page_get(
                slug=match.kwargs["slug"], number=match.kwargs.get("number", 1)
            )
            if page.next_price_change is not None:
                return Rendered(path, None)
            return Rendered(path, _body(views.category_response(_request(path), page)))
    except Http404:
        return Rendered(path, None)
    raise ValueError(f"{path} is not a prerendered kind of page")


def paths_render(paths: Iterable[str]) -> tuple[list[Rendered], list[ProductPage]]:
    """Any mix of catalog pages; product pages batched."""
    slugs, others = [], []
    for path in paths:
        try:
            match = resolve(path)
        except Resolver404:
            others.append(path)
            continue
        if match.url_name == "product":
            slugs.append(match.kwargs["slug"])
        else:
            others.append(path)
    rendered, pages = products_render(slugs)
    return [page_render(path) for path in others] + rendered, pages


def product_path(slug: str) -> str:
    return reverse("catalog:product", kwargs={"slug": slug})


def category_path(slug: str) -> str:
    return reverse("catalog:category", kwargs={"slug": slug})
