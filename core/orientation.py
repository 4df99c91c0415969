"""One image orientation everywhere: the picture as viewers show it, with the EXIF Orientation tag applied.

Phone photos are often stored sideways with a tag saying how to turn them. The GUI (Qt's
auto-transform) shows them turned, so the pipeline must find boxes and masks on the turned image
and the store must record the turned width and height, or regions land off the picture.
"""

from __future__ import annotations

from PIL import Image, ImageOps

ORIENTATION_TAG = 0x0112
SWAPS_SIDES = {5, 6, 7, 8}  # orientations that turn the picture by 90 degrees


def orientation(image: Image.Image) -> int:
    """The EXIF Orientation (1-8); 1 (as stored) when absent or unreadable, as viewers then show it."""
    try:
        value = image.getexif().get(ORIENTATION_TAG, 1)
    except Exception:  # noqa: BLE001 - a damaged EXIF block must not make a good picture unusable
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def upright(image: Image.Image) -> Image.Image:
    """The image as displayed (a new image; the input is left as it is)."""
    return ImageOps.exif_transpose(image) if orientation(image) != 1 else image.copy()


def upright_size(image: Image.Image) -> tuple[int, int]:
    """(width, height) as displayed, without decoding or turning the pixels."""
    width, height = image.size
    return (height, width) if orientation(image) in SWAPS_SIDES else (width, height)
