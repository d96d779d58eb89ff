"""Pages over the test models: a read and a write through the router, as a demo page would."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET, require_POST

from tests.testapp.models import Book


@require_GET
def book_count(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"books": Book.objects.count()})


@require_GET
def book_title(request: HttpRequest, slug: str) -> HttpResponse:
    return HttpResponse(get_object_or_404(Book, slug=slug).title)


@require_POST
def book_rename(request: HttpRequest, slug: str) -> HttpResponse:
    renamed = Book.objects.filter(slug=slug).update(title=request.POST.get("title", ""))
    return HttpResponse(status=204 if renamed else 404)
