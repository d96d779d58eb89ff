from django.urls import path

from catalog import views

app_name = "catalog"

# Flat: prerender/site.py registers these patterns with django-distill one by one.
urlpatterns = [
    path("", views.home, name="home"),
    path("categories/<slug:slug>/", views.category_detail, name="category"),
    # A path, not ?page=: every page of a listing can be prerendered as a file.
    path(
        "categories/<slug:slug>/page/<int:number>/",
        views.category_page_detail,
        name="category-page",
    ),
    path("products/<slug:slug>/", views.product_detail, name="product"),
]
