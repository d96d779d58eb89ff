from django.urls import path

from orders import views

app_name = "orders"

urlpatterns = [
    path("special/new/", views.special_order_new, name="special_order_new"),
    path("<uuid:order_uuid>/", views.special_order_detail, name="special_order_detail"),
    path(
        "<uuid:order_uuid>/status.json",
        views.special_order_status_json,
        name="special_order_status_json",
    ),
]
