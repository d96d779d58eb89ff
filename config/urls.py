from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("cart.urls")),
    path("orders/", include("orders.urls")),
    path("", include("catalog.urls")),
]

handler400 = "config.error_pages.bad_request"
handler500 = "config.error_pages.server_error"
