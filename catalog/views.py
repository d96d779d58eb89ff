"""Storefront pages. Thin: parse the URL, read through the caches, render.

The ``*_response`` functions render a page from data already read, so that a page
rendered ahead of time (prerendered) is the very page a clone would answer.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language

from catalog import cached_reads
from catalog.read_model import reports_read_model
from catalog.selectors import CategoryPage, CategorySummary, ProductPage


def home_response(request: HttpRequest, categories: list[CategorySummary]) -> HttpResponse:
    return render(request, "catalog/home.html", {"categories": categories})


def category_response(request: HttpRequest, page: CategoryPage) -> HttpResponse:
    return render(request, "catalog/category.html", {"page": page})


def product_response(request: HttpRequest, page: ProductPage) -> HttpResponse:
    return render(
        request,
        "catalog/product.html",
        {"page": page, "text": page.text_for(get_language())},
    )


@reports_read_model
def home(request: HttpRequest) -> HttpResponse:
    return home_response(request, cached_reads.categories())


@reports_read_model
def category_detail(request: HttpRequest, slug: str) -> HttpResponse:
    return category_response(request, cached_reads.category_page(slug=slug))


@reports_read_model
def product_detail(request: HttpRequest, slug: str) -> HttpResponse:
    return product_response(request, cached_reads.product_page(slug=slug))
