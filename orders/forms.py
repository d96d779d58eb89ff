from datetime import date, timedelta
from uuid import UUID, uuid4, uuid5

from django import forms
from django.utils import timezone

from catalog.models import Product
from orders.models import SpecialOrder

PICKUP_HORIZON_DAYS = 90


class SpecialOrderForm(forms.Form):
    product = forms.SlugField(
        max_length=50,
        help_text="The product's short name, as in its address /products/<name>/.",
    )
    writing = forms.CharField(
        max_length=SpecialOrder.WRITING_MAX_LENGTH,
        strip=True,
        help_text=f"Up to {SpecialOrder.WRITING_MAX_LENGTH} characters, written on the cake.",
    )
    pickup_date = forms.DateField(
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="YYYY-MM-DD, from today up to 90 days ahead.",
    )
    email = forms.EmailField(
        max_length=SpecialOrder._meta.get_field("customer_email").max_length,  # 254, not 320
        help_text="We write to you when your cake is ready.",
    )
    # A fresh random token in every form page: the same form sent again (a double
    # click, or a retry after an error) is one order (``idempotency_key``).
    token = forms.UUIDField(required=False, widget=forms.HiddenInput)

    @classmethod
    def blank(cls, *, product: str = "") -> "SpecialOrderForm":
        """An empty form for a new order, with its own token."""
        return cls(initial={"product": product, "token": uuid4()})

    def idempotency_key(self) -> UUID | None:
        """The form's token and what was ordered, as one key (None without a token).

        The same form sent again gives the same key, so the order placed by the first
        send is returned; a form edited before it is sent again is a new order.
        """
        token = self.cleaned_data.get("token")
        if token is None:
            return None
        data = self.cleaned_data
        ordered = (
            f"{data['product'].pk}\n{data['writing']}\n{data['pickup_date']:%Y-%m-%d}\n"
            f"{data['email']}"
        )
        return uuid5(token, ordered)

    def clean_product(self) -> Product:
        slug = self.cleaned_data["product"]
        product = Product.objects.filter(slug=slug, published=True).first()
        if product is None:
            raise forms.ValidationError("We have no product with that name.", code="unknown")
        return product

    def clean_writing(self) -> str:
        writing = self.cleaned_data["writing"]
        if any(not character.isprintable() for character in writing):
            raise forms.ValidationError(
                "The writing can only hold printable characters.", code="unprintable"
            )
        return writing

    def clean_pickup_date(self) -> date:
        pickup = self.cleaned_data["pickup_date"]
        today = timezone.localdate()
        if pickup < today:
            raise forms.ValidationError("The pickup date is in the past.", code="past")
        if pickup > today + timedelta(days=PICKUP_HORIZON_DAYS):
            raise forms.ValidationError(
                f"We take orders up to {PICKUP_HORIZON_DAYS} days ahead.", code="too_far"
            )
        return pickup
