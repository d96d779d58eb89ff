"""Special-order pages. Thin: validate, call a service or selector, respond."""

import logging
from uuid import UUID

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render

from orders import selectors, services
from orders.errors import ProductUnavailableError
from orders.forms import SpecialOrderForm
from orders.ratelimit import retry_after_if_limited

logger = logging.getLogger(__name__)
NOT_RECORDED = (
    "We could not record your order just now, so it was not placed. Please try again in a minute."
)


def special_order_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        retry_after = retry_after_if_limited(request, scope="special-order")
        if retry_after is not None:
            return _too_many_orders(request, retry_after)
        form = SpecialOrderForm(request.POST)
        if form.is_valid():
            try:
                order = services.special_order_place(
                    product=form.cleaned_data["product"],
                    writing=form.cleaned_data["writing"],
                    pickup_date=form.cleaned_data["pickup_date"],
                    customer_email=form.cleaned_data["email"],
                )
            except ProductUnavailableError as error:
                form.add_error("product", str(error))
            except DatabaseError:
                # The order and its job roll back together: say plainly that nothing was
                # placed (the shopper's input is kept) rather than an error page.
                logger.exception("special order not recorded")
                form.add_error(None, NOT_RECORDED)
                response = _form_page(request, form, status=503)
                response["Retry-After"] = "60"
                return response
            else:
                return redirect(order.get_absolute_url())
        return _form_page(request, form, status=400)
    form = SpecialOrderForm(initial={"product": request.GET.get("product", "")})
    return _form_page(request, form)


def _form_page(request: HttpRequest, form: SpecialOrderForm, *, status: int = 200) -> HttpResponse:
    return render(request, "orders/special_order_form.html", {"form": form}, status=status)


def _too_many_orders(request: HttpRequest, retry_after: int) -> HttpResponse:
    context = {
        "limit": settings.SPECIAL_ORDER_RATE_LIMIT,
        "window_minutes": max(1, settings.SPECIAL_ORDER_RATE_WINDOW_SECONDS // 60),
        "retry_after_minutes": max(1, -(-retry_after // 60)),
    }
    response = render(request, "orders/special_order_rate_limited.html", context, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def special_order_detail(request: HttpRequest, order_uuid: UUID) -> HttpResponse:
    order = selectors.special_order_get(order_uuid=order_uuid)
    status = selectors.special_order_status(order=order)
    return render(request, "orders/special_order_detail.html", {"order": order, "status": status})


def special_order_status_json(request: HttpRequest, order_uuid: UUID) -> JsonResponse:
    order = selectors.special_order_get(order_uuid=order_uuid)
    response = JsonResponse(selectors.special_order_status(order=order))
    response["Cache-Control"] = "no-store"
    return response
