"""Special-order pages. Thin: validate, call a service or selector, respond."""

import logging
from uuid import UUID

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render

from orders import selectors, services
from orders.errors import OrderLimitError, ProductUnavailableError, RateLimitUnavailableError
from orders.forms import SpecialOrderForm
from orders.ratelimit import retry_after_if_limited

logger = logging.getLogger(__name__)
# A database error can come from the commit itself, after which the order may or may not
# be recorded: say only what we know. Sending the form again is safe (its token).
NOT_CONFIRMED = (
    "We could not confirm your order just now: it may not have been placed. Please send "
    "this form again in a minute. If the first try did go through, you get that order, "
    "not a second one."
)


def special_order_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            retry_after = retry_after_if_limited(request, scope="special-order")
        except RateLimitUnavailableError:
            logger.exception("order form refused: its limit cannot be checked")
            return _not_taking_orders(request)
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
                    idempotency_key=form.idempotency_key(),
                )
            except ProductUnavailableError as error:
                form.add_error("product", str(error))
            except OrderLimitError as error:
                form.add_error("email", str(error))
                return _form_page(request, form, status=429)
            except DatabaseError:
                # The order and its job commit or roll back together, but an error while
                # committing leaves it open which: the form comes back with the shopper's
                # input and its token, so sending it again cannot place a second order.
                logger.exception("special order not confirmed")
                form.add_error(None, NOT_CONFIRMED)
                response = _form_page(request, form, status=503)
                response["Retry-After"] = "60"
                return response
            else:
                return redirect(order.get_absolute_url())
        return _form_page(request, form, status=400)
    form = SpecialOrderForm.blank(product=request.GET.get("product", ""))
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


def _not_taking_orders(request: HttpRequest) -> HttpResponse:
    """Fail closed: without its counters the form's limit cannot hold, so nothing is taken."""
    response = render(request, "orders/special_order_unavailable.html", status=503)
    response["Retry-After"] = "60"
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
