"""Storefront pages. Thin: parse the URL, read through the caches, render.

The ``*_response`` functions render a page from data already read, so that a page
rendered ahead of time (prerendered) is the very page a clone would answer.
"""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language

from catalog.cache import reads
from catalog.cache.renderings import product_page_html
from catalog.read_model import reports_read_model
from catalog.selectors import CategoryPage, CategorySummary, ProductPage


def home_response(request: HttpRequest, categories: list[CategorySummary]) -> HttpResponse:
    return render(request, "catalog/home.html", {"categories": categories})


def category_response(request: HttpRequest, page: CategoryPage) -> HttpResponse:
    context = {
        "page": page,
        "previous_url": page.previous_number and category_url(page.slug, page.previous_number),
        "next_url": page.next_number and category_url(page.slug, page.next_number),
    }
    return render(request, "catalog/category.html", context)


def product_response(request: HttpRequest, page: ProductPage) -> HttpResponse:
    return render(
        request,
        "catalog/product.html",
        {"page": page, "text": page.text_for(get_language())},
    )


@reports_read_model
def home(request: HttpRequest) -> HttpResponse:
    return home_response(request, reads.categories())


@reports_read_model
def category_detail(request: HttpRequest, slug: str) -> HttpResponse:
    if "page" in request.GET:
        return redirect(category_url(slug, _page_number(request.GET["page"])), permanent=True)
    return category_response(request, reads.category_page(slug=slug))


@reports_read_model
def category_page_detail(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    if number == 1:
        return redirect(category_url(slug, 1), permanent=True)  # one address per page
    return category_response(request, reads.category_page(slug=slug, number=number))


@reports_read_model
def product_detail(request: HttpRequest, slug: str) -> HttpResponse:
    # The HTML is cached beside the page: rendered here only when it is not.
    html = product_page_html(slug=slug, render=lambda page: product_response(request, page))
    return HttpResponse(html)


def category_url(slug: str, number: int) -> str:
    """The one address of page ``number`` of a category's listing."""
    if number == 1:
        return reverse("catalog:category", args=[slug])
    return reverse("catalog:category-page", args=[slug, number])


def _page_number(text: str) -> int:
    """``?page=`` of an older link; anything but a plain positive number is a 404."""
    if not (text.isdecimal() and text.isascii() and len(text) <= 6) or int(text) < 1:
        raise Http404("No such page.")
    return int(text)
