from django.urls import include, path

from orders import views

app_name = "orders"

urlpatterns = [
    path("special/new/", views.special_order_new, name="special_order_new"),
    # One order's pages, under its id.
    path(
        "<uuid:order_uuid>/",
        include(
            [
                path("", views.special_order_detail, name="special_order_detail"),
                path(
                    "status.json", views.special_order_status_json, name="special_order_status_json"
                ),
            ]
        ),
    ),
]
