"""Text in photos (name tags, signs, jerseys, logos) read with PP-OCRv6 through rapidocr.

rapidocr's wheel bundles the PP-OCRv6 small detector and recogniser and the PP-OCR angle
classifier; left to its defaults it would fetch models from the internet when a file is
missing, so every model path is given explicitly (each file checked against the catalogue's
size and sha256 first) and the recogniser's character set comes from its own ONNX metadata.
Nothing is downloaded, ever. rapidocr returns each line as a quadrilateral; the product stores
the axis-aligned box around it, in original pixels.
"""

from __future__ import annotations

import math
import threading
from typing import Any

from PIL import Image

from groundlens.core.pipeline.vision.memo import LastImageMemo
from groundlens.core.pipeline.vision.onnx_model import default_threads, verified_model_path
from groundlens.core.pipeline.vision.registry import register_analyser
from groundlens.records import ImageText

MODELS = {"Det": "ppocr_det", "Rec": "ppocr_rec", "Cls": "ppocr_cls"}
MAX_SIDE = 2000  # rapidocr's Global.max_side_len: longer photos are scaled down to it
MAX_ASPECT = 4  # longest side / shortest side that reaches rapidocr


def pad_thin(image: Image.Image) -> Image.Image:
    """A banner-thin photo padded below or right with black to at most 4:1, boxes unchanged.

    rapidocr scales the long side down to 2000 px and rounds both sides to multiples of 32, so a
    4000x10 photo's short side became 0 and it raised ResizeImgError; and its detector scales the
    short side up to 736 px, so a 3000x25 strip became a 46000x736 input (100 s)."""
    width, height = image.size
    short = math.ceil(max(width, height) / MAX_ASPECT)
    if min(width, height) >= short:
        return image
    padded = Image.new("RGB", (max(width, short), max(height, short)))
    padded.paste(image, (0, 0))
    return padded


class RapidOcrReader:
    """Lines of text with a recognition score of at least `score_floor`, top to bottom.

    The floor is 0.8, not rapidocr's 0.5: on the demo photos the lines below it were misreads of
    texture ("8" over a whole coffee table at 0.78, "0" on a cat at 0.69)."""

    name = "rapidocr"
    version = "PP-OCRv6-small"

    def __init__(self, threads: int | None = None, score_floor: float = 0.8):
        from rapidocr import RapidOCR

        self.score_floor = score_floor
        params: dict[str, Any] = {
            f"{stage}.model_path": str(verified_model_path(model)) for stage, model in MODELS.items()
        }
        threads = int(threads or default_threads())
        params.update(
            {
                "EngineConfig.onnxruntime.intra_op_num_threads": threads,
                "EngineConfig.onnxruntime.inter_op_num_threads": 1,
                "Global.text_score": score_floor,
                "Global.max_side_len": MAX_SIDE,
                "Global.log_level": "error",
            }
        )
        self.engine = RapidOCR(params=params)
        self._lock = threading.Lock()  # rapidocr keeps per-call settings on the engine
        self._memo: LastImageMemo[ImageText] = LastImageMemo()

    def read(self, image: Image.Image) -> list[ImageText]:
        return self._memo.get(image, self._read)

    def _read(self, image: Image.Image) -> list[ImageText]:
        width, height = image.size
        from rapidocr.utils.output import RapidOCROutput

        with self._lock:
            result = self.engine(pad_thin(image.convert("RGB")))
        if not isinstance(result, RapidOCROutput):  # what a call with detection and recognition both on returns
            raise TypeError(f"rapidocr returned {type(result).__name__}, not its full OCR output")
        if result.boxes is None or result.txts is None or result.scores is None:
            return []
        lines = []
        for quad, text, score in zip(result.boxes, result.txts, result.scores):
            text = text.strip()
            if not any(c.isalnum() for c in text) or float(score) < self.score_floor:
                continue  # "***" read off the stars of a flag is no text
            xs, ys = [float(p[0]) for p in quad], [float(p[1]) for p in quad]
            box = (max(0.0, min(xs)), max(0.0, min(ys)), min(float(width), max(xs)), min(float(height), max(ys)))
            lines.append(ImageText(text, box, float(score)))
        return sorted(lines, key=lambda line: (line.box[1], line.box[0], line.text))


@register_analyser("rapidocr")
def create_rapidocr(threads: int | None = None, score_floor: float = 0.8) -> RapidOcrReader:
    return RapidOcrReader(threads, score_floor)
