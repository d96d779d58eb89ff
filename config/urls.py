from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from ops.scaling import scaling_page

# The demo shop's pages, each when its app is installed (settings.DEMO_APPS).
DEMO_URLS = {"cart": "", "orders": "orders/", "catalog": ""}

urlpatterns = [
    # Before admin.site.urls, whose catch-all would take it; staff only, like the admin.
    path("admin/scaling/", admin.site.admin_view(scaling_page), name="admin-scaling"),
    path("admin/", admin.site.urls),
    *(
        path(prefix, include(f"{app}.urls"))
        for app, prefix in DEMO_URLS.items()
        if app in settings.DEMO_APPS
    ),
]

handler400 = "ops.error_pages.bad_request"
handler500 = "ops.error_pages.server_error"
