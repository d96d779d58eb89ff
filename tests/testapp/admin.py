from django.contrib import admin

from tests.testapp.models import Book

admin.site.register(Book)
