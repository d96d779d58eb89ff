"""The project's URLs with the test app's pages; tests take them with
``pytest.mark.urls("tests.testapp.urls")``."""

from django.urls import path

from config.urls import handler400, handler500  # noqa: F401  (the project's error pages)
from config.urls import urlpatterns as project_urlpatterns
from tests.testapp import views

urlpatterns = [
    path("books.json", views.book_count, name="book-count"),
    path("books/<slug:slug>/", views.book_title, name="book-title"),
    path("books/<slug:slug>/rename/", views.book_rename, name="book-rename"),
    *project_urlpatterns,
]
