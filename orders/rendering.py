"""Writing on a cake: the customer's text drawn onto the product's picture (Pillow)."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFont

SIZE = (640, 480)
ICING = (255, 255, 255)
OUTLINE = (122, 62, 32)
PLAIN_CAKE = (236, 200, 160)


def render_writing(*, writing: str, picture: bytes | None) -> bytes:
    """A PNG of ``picture``, an image file's bytes (or a plain cake when None), with
    ``writing`` across it.

    Deterministic: the same inputs give the same bytes, so baking twice stores the same
    picture. Raises ``OSError`` when ``picture`` is not an image.
    """
    if picture is not None:
        with Image.open(io.BytesIO(picture)) as source:
            image = source.convert("RGB").resize(SIZE)
    else:
        image = Image.new("RGB", SIZE, PLAIN_CAKE)
    draw = ImageDraw.Draw(image)
    font = _font_fitting(draw, writing, max_width=SIZE[0] - 60)
    left, top, right, bottom = draw.textbbox((0, 0), writing, font=font, stroke_width=3)
    # Centred across, on the top of the drawn cake (a little below the middle).
    position = ((SIZE[0] - (right - left)) / 2 - left, SIZE[1] * 0.58 - (bottom - top) / 2 - top)
    draw.text(position, writing, font=font, fill=ICING, stroke_width=3, stroke_fill=OUTLINE)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()


def _font_fitting(
    draw: ImageDraw.ImageDraw, text: str, *, max_width: int
) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's bundled font at the largest size (48 down to 14) that fits ``max_width``."""
    for size in range(48, 13, -2):
        font = ImageFont.load_default(size=size)
        left, _, right, _ = draw.textbbox((0, 0), text, font=font, stroke_width=3)
        if right - left <= max_width:
            return font
    return ImageFont.load_default(size=14)
