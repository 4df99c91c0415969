"""Segmentation backends: MobileSAM (default, weights from the model store) and SAM ViT-B/L/H.

Registration stays cheap: torch and the model code are imported only when a backend is built.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from groundlens.core.pipeline.registry import register

if TYPE_CHECKING:  # the predictor imports torch: only when a backend is built
    from groundlens.core.pipeline.segmentation.predictor import SamSegmenter

SAM_VARIANTS = ("vit_b", "vit_l", "vit_h")


def _checkpoint(explicit: str | Path | None, store_name: str) -> Path:
    """The given checkpoint, or the installed one from the model store (clear error if absent)."""
    if explicit is not None:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"segmentation checkpoint not found: {path}")
        return path
    from groundlens.core.modelstore import require

    return require(store_name)


def _weights_version(path: Path) -> str:
    """First 12 hex digits of the checkpoint's sha256, so results say which weights made them."""
    from groundlens.core.modelstore.status import sha256_file

    return sha256_file(path)[:12]


def _set_threads(threads: int | None) -> None:
    if threads:
        import torch

        torch.set_num_threads(int(threads))


def _validate_mobile_sam(checkpoint: str | None = None, **_: Any) -> None:
    _checkpoint(checkpoint, "mobile_sam")


def _validate_sam(checkpoint: str | None = None, variant: str = "vit_b", **_: Any) -> None:
    _check_variant(variant)
    _checkpoint(checkpoint, f"sam_{variant}")


def _check_variant(variant: str) -> None:
    if variant not in SAM_VARIANTS:
        raise ValueError(f"unknown SAM variant {variant!r}; choose one of {', '.join(SAM_VARIANTS)}")


@register("segmentation", "mobile_sam", validate=_validate_mobile_sam)
def mobile_sam(checkpoint: str | None = None, threads: int | None = None) -> SamSegmenter:
    """MobileSAM: TinyViT encoder (about 1 s per image on 2 cores) with SAM's prompt encoder and decoder."""
    from groundlens.core.pipeline.segmentation.build_sam import build_mobile_sam
    from groundlens.core.pipeline.segmentation.predictor import SamSegmenter

    _set_threads(threads)
    path = _checkpoint(checkpoint, "mobile_sam")
    return SamSegmenter(build_mobile_sam(path), name="mobile_sam", version=_weights_version(path))


@register("segmentation", "sam", validate=_validate_sam)
def sam(checkpoint: str | None = None, variant: str = "vit_b", threads: int | None = None) -> SamSegmenter:
    """Original SAM; much slower on CPU, for users who have a ViT-B/L/H checkpoint."""
    _check_variant(variant)
    from groundlens.core.pipeline.segmentation.build_sam import build_sam_vit
    from groundlens.core.pipeline.segmentation.predictor import SamSegmenter

    _set_threads(threads)
    path = _checkpoint(checkpoint, f"sam_{variant}")
    return SamSegmenter(build_sam_vit(variant, path), name="sam", version=f"{variant}:{_weights_version(path)}")
