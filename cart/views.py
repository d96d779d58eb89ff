"""Cart endpoints. ``/cart.json`` is the small dynamic endpoint that every page (also
prerendered ones) calls to show the cart count in the header: it reads the session only,
and runs no SQL.

Why and how: ``docs/lessons/1-clones.md``."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cart.errors import CartError
from cart.selectors import cart_lines, slugs_for_sale
from cart.session_cart import SessionCart


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _cart_for_sale(request: HttpRequest, *also: str) -> tuple[SessionCart, set[str]]:
    """The shopper's cart pruned of products no longer for sale, and which of its slugs
    and ``also`` are for sale (one query; none for an empty cart and no ``also``)."""
    cart = SessionCart(request.session)
    for_sale = slugs_for_sale(slugs=[*cart.lines, *also])
    cart.keep_only(slugs=for_sale)
    return cart, for_sale


def _cart_json(cart: SessionCart, *, status: int = 200, error: str | None = None) -> JsonResponse:
    items = [{"slug": slug, "quantity": quantity} for slug, quantity in cart.lines.items()]
    body: dict[str, object] = {"count": cart.count, "items": items}
    if error is not None:
        body["error"] = error
    return JsonResponse(body, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
def cart_add(request: HttpRequest, slug: str) -> HttpResponse:
    if request.method != "POST":
        return _add_form(request, slug)
    cart, for_sale = _cart_for_sale(request, slug)
    if slug not in for_sale:
        return _refused(request, cart, "We have no product with that name.", status=404)
    try:
        quantity = int(request.POST.get("quantity", "1"))
    except ValueError:
        return _refused(request, cart, "Quantity must be a number.", status=400)
    try:
        cart.add(slug=slug, quantity=quantity)
    except CartError as error:
        return _refused(request, cart, str(error), status=400)
    if _wants_json(request):
        return _cart_json(cart)
    return redirect("cart:detail")


@require_POST
def cart_remove(request: HttpRequest, slug: str) -> HttpResponse:
    SessionCart(request.session).remove(slug=slug)
    cart, _ = _cart_for_sale(request)
    if _wants_json(request):
        return _cart_json(cart)
    return redirect("cart:detail")


@require_GET
def cart_detail(request: HttpRequest) -> HttpResponse:
    return _detail_page(request, SessionCart(request.session))


@never_cache
@ensure_csrf_cookie  # pages without a form still get a token for script posts
@require_GET
def cart_json(request: HttpRequest) -> JsonResponse:
    return _cart_json(SessionCart(request.session))  # the session only: no SQL


def _add_form(request: HttpRequest, slug: str) -> HttpResponse:
    """Without JavaScript, a product page's "Add to cart" comes here (a GET: shareable
    pages hold no CSRF token), and this dynamic page asks once more with a real form."""
    if slug not in slugs_for_sale(slugs=[slug]):
        return _detail_page(
            request,
            SessionCart(request.session),
            status=404,
            error="We have no product with that name.",
        )
    return render(request, "cart/add.html", {"slug": slug})


def _refused(request: HttpRequest, cart: SessionCart, message: str, *, status: int):
    if _wants_json(request):
        return _cart_json(cart, status=status, error=message)
    return _detail_page(request, cart, error=message, status=status)


def _detail_page(
    request: HttpRequest, cart: SessionCart, *, error: str | None = None, status: int = 200
) -> HttpResponse:
    lines = cart_lines(lines=cart.lines)
    cart.keep_only(slugs={line.slug for line in lines})  # the query above told us
    return render(request, "cart/detail.html", {"lines": lines, "error": error}, status=status)
