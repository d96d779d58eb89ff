"""Cart endpoints. ``/cart.json`` is the small dynamic endpoint that pages (also
prerendered ones) call to show the cart count in the header."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_POST

from cart.selectors import cart_lines
from cart.session_cart import CartError, SessionCart
from catalog.selectors import product_is_for_sale


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@require_POST
def cart_add(request: HttpRequest, slug: str) -> HttpResponse:
    cart = SessionCart(request.session)
    if not product_is_for_sale(slug=slug):
        return _refused(request, cart, "We have no product with that name.", status=404)
    try:
        quantity = int(request.POST.get("quantity", "1"))
        cart.add(slug=slug, quantity=quantity)
    except ValueError as error:  # int() on bad input, or CartError
        message = str(error) if isinstance(error, CartError) else "Quantity must be a number."
        return _refused(request, cart, message, status=400)
    if _wants_json(request):
        return JsonResponse({"count": cart.count, "lines": cart.lines})
    return redirect("cart:detail")


@require_POST
def cart_remove(request: HttpRequest, slug: str) -> HttpResponse:
    cart = SessionCart(request.session)
    cart.remove(slug=slug)
    if _wants_json(request):
        return JsonResponse({"count": cart.count, "lines": cart.lines})
    return redirect("cart:detail")


@require_GET
def cart_detail(request: HttpRequest) -> HttpResponse:
    cart = SessionCart(request.session)
    return render(request, "cart/detail.html", {"lines": cart_lines(lines=cart.lines)})


@never_cache
@ensure_csrf_cookie  # pages without a form still get a token for script posts
@require_GET
def cart_json(request: HttpRequest) -> JsonResponse:
    cart = SessionCart(request.session)
    items = [{"slug": slug, "quantity": quantity} for slug, quantity in cart.lines.items()]
    return JsonResponse({"count": cart.count, "items": items})


def _refused(request: HttpRequest, cart: SessionCart, message: str, *, status: int):
    if _wants_json(request):
        return JsonResponse({"error": message, "count": cart.count}, status=status)
    context = {"lines": cart_lines(lines=cart.lines), "error": message}
    return render(request, "cart/detail.html", context, status=status)
