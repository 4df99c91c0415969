"""What the transformers detectors share: load processor + model from a folder or hub id, a
score threshold, and a version naming the weights they came from."""

from __future__ import annotations

from pathlib import Path


class TransformersDetector:
    model_class = ""  # a transformers class name, imported lazily

    def __init__(self, model: str, threshold: float):
        import transformers

        self.processor = transformers.AutoProcessor.from_pretrained(model)
        self.model = getattr(transformers, self.model_class).from_pretrained(model).eval()
        self.threshold = threshold
        self.version = f"1+{Path(str(model)).name}"
