"""Writing on a cake: the customer's text drawn onto the product's picture (Pillow).

Why and how: ``docs/lessons/4.2-special-orders.md``."""

from __future__ import annotations

import io
import unicodedata

from PIL import Image, ImageDraw, ImageFont

from orders.cake_font import cake_font_path, characters_missing, describe_characters
from orders.errors import UndrawableWritingError

SIZE = (640, 480)
MARGIN = 30  # pixels kept free at each edge of the picture
ICING = (255, 255, 255)
OUTLINE = (122, 62, 32)
STROKE = 3
PLAIN_CAKE = (236, 200, 160)
LARGEST, ONE_LINE_MIN_SIZE, SMALLEST = 48, 28, 6


def render_writing(*, writing: str, picture: bytes | None) -> bytes:
    """A PNG of ``picture``, an image file's bytes (or a plain cake when None), with
    ``writing`` across it.

    Deterministic: the same inputs give the same bytes, so baking twice stores the same
    picture. Raises ``OSError`` when ``picture`` is not an image, and
    ``UndrawableWritingError`` when the font lacks a character of ``writing``.
    """
    missing = characters_missing(writing)
    if missing:
        raise UndrawableWritingError(f"The cake font cannot draw {describe_characters(missing)}")
    if picture is not None:
        with Image.open(io.BytesIO(picture)) as source:
            image = source.convert("RGB").resize(SIZE)
    else:
        image = Image.new("RGB", SIZE, PLAIN_CAKE)
    draw = ImageDraw.Draw(image)
    font, text = writing_layout(draw, writing)
    left, top, right, bottom = _box(draw, text, font)
    # Centred across, on the top of the drawn cake (a little below the middle), inside.
    x = (SIZE[0] - (right - left)) / 2 - left
    y = min(max(SIZE[1] * 0.58 - (bottom - top) / 2, MARGIN), SIZE[1] - MARGIN - (bottom - top))
    draw.multiline_text(
        (x, y - top),
        text,
        font=font,
        fill=ICING,
        stroke_width=STROKE,
        stroke_fill=OUTLINE,
        align="center",
    )
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()


def writing_layout(draw: ImageDraw.ImageDraw, writing: str) -> tuple[ImageFont.FreeTypeFont, str]:
    """The font size and the lines (joined by newlines) ``writing`` is drawn in: one line
    down to ``ONE_LINE_MIN_SIZE``, then two lines, then more, each as large as fits."""
    path = cake_font_path()
    fonts = [ImageFont.truetype(str(path), size) for size in range(LARGEST, SMALLEST - 1, -2)]
    one_line = [font for font in fonts if font.size >= ONE_LINE_MIN_SIZE]
    for font in one_line:
        if _fits(draw, writing, font):
            return font, writing
    for font in fonts:
        text = "\n".join(_two_lines(writing))
        if _fits(draw, text, font):
            return font, text
    smallest = fonts[-1]
    return smallest, "\n".join(_wrapped(draw, writing, smallest))


def _box(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont):
    return draw.multiline_textbbox((0, 0), text, font=font, stroke_width=STROKE, align="center")


def _fits(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont) -> bool:
    left, top, right, bottom = _box(draw, text, font)
    return right - left <= SIZE[0] - 2 * MARGIN and bottom - top <= SIZE[1] - 2 * MARGIN


def _two_lines(writing: str) -> list[str]:
    """``writing`` split in two at the space nearest its middle; in the middle when it has
    no space."""
    middle = len(writing) / 2
    spaces = [i for i, character in enumerate(writing) if character == " "]
    if spaces:
        split = min(spaces, key=lambda i: abs(i - middle))
        return [writing[:split].rstrip(), writing[split + 1 :].lstrip()]
    split = round(middle)
    while split < len(writing) - 1 and unicodedata.combining(writing[split]):
        split += 1  # a mark stays with its letter
    return [writing[:split], writing[split:]]


def _wrapped(draw: ImageDraw.ImageDraw, writing: str, font: ImageFont.FreeTypeFont) -> list[str]:
    """``writing`` broken anywhere into as many lines as it takes to fit across."""
    lines = [""]
    for character in writing:
        starts_letter = not unicodedata.combining(character)  # a mark stays with its letter
        if lines[-1] and starts_letter and not _fits(draw, lines[-1] + character, font):
            lines.append("")
        lines[-1] += character
    return lines
