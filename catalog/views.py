"""Storefront pages. Thin: parse the URL, read through the caches, render."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language

from catalog import cached_reads
from catalog.read_model import reports_read_model


@reports_read_model
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "catalog/home.html", {"categories": cached_reads.categories()})


@reports_read_model
def category_detail(request: HttpRequest, slug: str) -> HttpResponse:
    page = cached_reads.category_page(slug=slug)
    return render(request, "catalog/category.html", {"page": page})


@reports_read_model
def product_detail(request: HttpRequest, slug: str) -> HttpResponse:
    page = cached_reads.product_page(slug=slug)
    return render(
        request,
        "catalog/product.html",
        {"page": page, "text": page.text_for(get_language())},
    )
