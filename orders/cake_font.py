"""The font the cake's writing is drawn in, and what it can draw.

Why and how: ``docs/lessons/4.2-special-orders.md``."""

from __future__ import annotations

import functools
import unicodedata
from pathlib import Path

from django.conf import settings
from fontTools.ttLib import TTFont, TTLibError

from orders.errors import CakeFontMissingError

MAX_COMBINING_MARKS = 2


def cake_font_path() -> Path:
    """``CAKE_FONT_PATH``; raises ``CakeFontMissingError`` naming it and the fix when it is
    not a font file."""
    path = Path(settings.CAKE_FONT_PATH)
    _character_map(str(path))  # raises if it is not there or not a font
    return path


def characters_missing(writing: str) -> list[str]:
    """The characters of ``writing`` that the cake font has no glyph for, each once, in
    order of appearance."""
    drawable = _character_map(str(Path(settings.CAKE_FONT_PATH)))
    missing = [character for character in writing if ord(character) not in drawable]
    return list(dict.fromkeys(missing))


def longest_mark_stack(writing: str) -> int:
    """The most combining marks on one character of ``writing``."""
    longest = run = 0
    for character in writing:
        run = run + 1 if unicodedata.combining(character) else 0
        longest = max(longest, run)
    return longest


def normalized(writing: str) -> str:
    """``writing`` as the font draws it best: precomposed letters (NFC)."""
    return unicodedata.normalize("NFC", writing)


def describe_characters(characters: list[str]) -> str:
    """``“☃” (SNOWMAN), “😀” (GRINNING FACE)``: what a shopper can recognize and look up."""
    return ", ".join(
        f"“{character}” ({unicodedata.name(character, f'U+{ord(character):04X}')})"
        for character in characters
    )


@functools.cache
def _character_map(path: str) -> frozenset[int]:
    try:
        with TTFont(path, lazy=True) as font:
            return frozenset(font.getBestCmap())
    except (OSError, TTLibError) as error:
        raise CakeFontMissingError(
            f"The cake font CAKE_FONT_PATH={path} cannot be read ({error}). Install Debian's "
            "fonts-dejavu-core (`make bootstrap` does) or point CAKE_FONT_PATH at a TrueType "
            "font with wide coverage."
        ) from error
