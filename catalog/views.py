"""Storefront pages. Thin: parse the URL, call a selector, render."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language

from catalog import selectors


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "catalog/home.html", {"categories": selectors.category_list()})


def category_detail(request: HttpRequest, slug: str) -> HttpResponse:
    category = selectors.category_get(slug=slug)
    products = selectors.category_products(category=category)
    return render(request, "catalog/category.html", {"category": category, "products": products})


def product_detail(request: HttpRequest, slug: str) -> HttpResponse:
    page = selectors.product_page_get(slug=slug)
    return render(
        request,
        "catalog/product.html",
        {"page": page, "text": page.text_for(get_language())},
    )
