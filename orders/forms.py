from datetime import date, timedelta
from uuid import UUID, uuid4, uuid5

from django import forms
from django.utils import timezone

from catalog.models import Product
from orders.cake_font import (
    MAX_COMBINING_MARKS,
    characters_missing,
    describe_characters,
    longest_mark_stack,
    normalized,
)
from orders.models import SpecialOrder

PICKUP_HORIZON_DAYS = 90


class SpecialOrderForm(forms.Form):
    # Every published product, by name; prefilled from ?product=<slug> (a product page's
    # "Order with your own writing" link). Sent as the product's slug.
    product = forms.ModelChoiceField(
        queryset=Product.objects.filter(published=True).order_by("name"),
        to_field_name="slug",
        label="Cake",
        empty_label="Choose a cake",
        error_messages={"invalid_choice": "We have no product with that name."},
        help_text="The cake we write on.",
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

    def clean_writing(self) -> str:
        """Printable, drawable in the cake font (naming what is not), marks bounded."""
        writing = normalized(self.cleaned_data["writing"])
        if any(not character.isprintable() for character in writing):
            raise forms.ValidationError(
                "The writing can only hold printable characters.", code="unprintable"
            )
        missing = characters_missing(writing)
        if missing:
            raise forms.ValidationError(
                f"We cannot write {describe_characters(missing)} on a cake: our icing "
                "font has no such letter. Please leave it out or use another.",
                code="undrawable",
            )
        if longest_mark_stack(writing) > MAX_COMBINING_MARKS:
            raise forms.ValidationError(
                f"A letter can carry at most {MAX_COMBINING_MARKS} accents.", code="marks"
            )
        if len(writing) > SpecialOrder.WRITING_MAX_LENGTH:
            raise forms.ValidationError(
                f"Ensure this value has at most {SpecialOrder.WRITING_MAX_LENGTH} characters.",
                code="max_length",
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
