"""Storefront pages. Thin: parse the URL, read through the caches, render."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from catalog import cached_reads
from catalog.page_renderings import product_page_html


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "catalog/home.html", {"categories": cached_reads.categories()})


def category_detail(request: HttpRequest, slug: str) -> HttpResponse:
    if "page" in request.GET:
        return redirect(_category_url(slug, _page_number(request.GET["page"])), permanent=True)
    return _category_page(request, slug, 1)


def category_page_detail(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    if number == 1:
        return redirect(_category_url(slug, 1), permanent=True)  # one address per page
    return _category_page(request, slug, number)


def _category_page(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    page = cached_reads.category_page(slug=slug, number=number)
    context = {
        "page": page,
        "previous_url": page.previous_number and _category_url(slug, page.previous_number),
        "next_url": page.next_number and _category_url(slug, page.next_number),
    }
    return render(request, "catalog/category.html", context)


def product_detail(request: HttpRequest, slug: str) -> HttpResponse:
    return HttpResponse(product_page_html(request=request, slug=slug))


def _page_number(text: str) -> int:
    """``?page=`` of an older link; anything but a plain positive number is a 404."""
    if not (text.isdecimal() and text.isascii() and len(text) <= 6) or int(text) < 1:
        raise Http404("No such page.")
    return int(text)


def _category_url(slug: str, number: int) -> str:
    if number == 1:
        return reverse("catalog:category", args=[slug])
    return reverse("catalog:category-page", args=[slug, number])
