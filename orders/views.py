"""Special-order pages. Thin: validate, call a service or selector, respond."""

from uuid import UUID

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render

from orders import selectors, services
from orders.forms import SpecialOrderForm


def special_order_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = SpecialOrderForm(request.POST)
        if form.is_valid():
            order = services.special_order_place(
                product=form.cleaned_data["product"],
                writing=form.cleaned_data["writing"],
                pickup_date=form.cleaned_data["pickup_date"],
                customer_email=form.cleaned_data["email"],
            )
            return redirect(order.get_absolute_url())
        return render(request, "orders/special_order_form.html", {"form": form}, status=400)
    form = SpecialOrderForm(initial={"product": request.GET.get("product", "")})
    return render(request, "orders/special_order_form.html", {"form": form})


def special_order_detail(request: HttpRequest, order_uuid: UUID) -> HttpResponse:
    order = selectors.special_order_get(order_uuid=order_uuid)
    status = selectors.special_order_status(order=order)
    return render(request, "orders/special_order_detail.html", {"order": order, "status": status})


def special_order_status_json(request: HttpRequest, order_uuid: UUID) -> JsonResponse:
    order = selectors.special_order_get(order_uuid=order_uuid)
    response = JsonResponse(selectors.special_order_status(order=order))
    response["Cache-Control"] = "no-store"
    return response
