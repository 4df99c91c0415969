"""A post's picture with its entities drawn on it (mask tint, box, label), as a JPEG (a photo as PNG
would make a report of six samples weigh megabytes), without Qt:
the HTML report embeds it for readers who do not run GroundLens."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from groundlens.core import masks
from groundlens.core.orientation import upright
from groundlens.core.palette import type_hex
from groundlens.records import Entity

MASK_ALPHA = 0.45
JPEG_QUALITY = 85


def _rgb(hex_color: str) -> tuple[int, int, int]:
    value = hex_color.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def overlay_jpeg(path: str | Path, entities: list[Entity], media_id: int | None, max_side: int = 640) -> bytes:
    """The picture as displayed, each region of these entities on image `media_id` (None: regions without
    one) tinted by its mask, boxed and labelled in its type's colour; scaled so the longer side is at most
    `max_side`. OSError for a picture that cannot be read."""
    with Image.open(path) as opened:
        picture = upright(opened).convert("RGB")
    pixels = np.asarray(picture, dtype=np.float32)
    drawn = [
        (entity, region) for entity in entities for region in entity.regions if region.media_id in (media_id, None)
    ]
    for entity, region in drawn:
        if region.mask_rle is None:
            continue
        mask = masks.decode(region.mask_rle)
        if mask.shape != pixels.shape[:2]:
            continue  # a mask for another size of this picture: the box still shows where
        pixels[mask] = pixels[mask] * (1 - MASK_ALPHA) + np.array(_rgb(type_hex(entity.type))) * MASK_ALPHA
    image = Image.fromarray(pixels.astype(np.uint8))
    scale = min(1.0, max_side / max(image.size))
    if scale < 1.0:
        image = image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS)
    draw = ImageDraw.Draw(image)
    for entity, region in drawn:
        colour = _rgb(type_hex(entity.type))
        box = [value * scale for value in region.box]
        draw.rectangle(box, outline=colour, width=3)
        label = f"{entity.text} ({entity.type})"
        left, top = box[0], max(0, box[1] - 14)
        draw.rectangle(draw.textbbox((left, top), label), fill=colour)
        draw.text((left, top), label, fill=(255, 255, 255))
    buffer = BytesIO()
    image.save(buffer, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return buffer.getvalue()
