from django.urls import include, path

from catalog import views

app_name = "catalog"

category_urlpatterns = [
    path("", views.category_detail, name="category"),
    # A path, not ?page=: every page of a listing can be prerendered as a file.
    path("page/<int:number>/", views.category_page_detail, name="category-page"),
]
urlpatterns = [
    path("", views.home, name="home"),
    path("categories/<slug:slug>/", include(category_urlpatterns)),
    path("products/<slug:slug>/", views.product_detail, name="product"),
]
