"""System checks of special orders: the cake font is there before any order is baked."""

from django.core.checks import Error, register

from orders.cake_font import cake_font_path
from orders.errors import CakeFontMissingError


@register()
def check_cake_font(app_configs=None, **kwargs) -> list[Error]:
    try:
        cake_font_path()
    except CakeFontMissingError as error:
        return [
            Error(
                str(error),
                hint="make bootstrap (apt-get install fonts-dejavu-core), or set CAKE_FONT_PATH.",
                id="scaleshop.E006",
            )
        ]
    return []
