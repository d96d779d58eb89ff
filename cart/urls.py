from django.urls import path

from cart import views

app_name = "cart"

urlpatterns = [
    path("cart/", views.cart_detail, name="detail"),
    path("cart.json", views.cart_json, name="json"),
    path("cart/add/<slug:slug>/", views.cart_add, name="add"),
    path("cart/remove/<slug:slug>/", views.cart_remove, name="remove"),
]
