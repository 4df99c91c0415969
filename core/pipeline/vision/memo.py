"""Remember an analyser's answer for the last image it saw.

The entailment judge and the grounder ask the same shared analyser about the same photo one
after the other; the second asks for free. The memo holds the image itself, so identity cannot
be confused with a new image that reuses a freed object's id.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from PIL import Image

T = TypeVar("T")


class LastImageMemo(Generic[T]):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: tuple[Image.Image, list[T]] | None = None

    def get(self, image: Image.Image, compute: Callable[[Image.Image], list[T]]) -> list[T]:
        with self._lock:
            if self._last is not None and self._last[0] is image:
                return list(self._last[1])
        result = compute(image)
        with self._lock:
            self._last = (image, result)
        return list(result)
