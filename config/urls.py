from django.contrib import admin
from django.urls import include, path

from ops.scaling import scaling_page

urlpatterns = [
    # Before admin.site.urls, whose catch-all would take it; staff only, like the admin.
    path("admin/scaling/", admin.site.admin_view(scaling_page), name="admin-scaling"),
    path("admin/", admin.site.urls),
    path("", include("cart.urls")),
    path("orders/", include("orders.urls")),
    path("", include("catalog.urls")),
]

handler400 = "ops.error_pages.bad_request"
handler500 = "ops.error_pages.server_error"
