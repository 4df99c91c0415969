"""Assemble MobileSAM and SAM ViT-B/L/H from segment-anything's model parts, optionally from a checkpoint.

The configurations are segment-anything's (`build_sam.py`) and MobileSAM's; `image_size` exists
so that tests and benchmarks can run the same code on a small randomly initialised model.
Released checkpoints only fit `image_size=1024`.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import torch

from groundlens.core.pipeline.segmentation.sam_modeling import sam_modeling
from groundlens.core.pipeline.segmentation.tiny_vit import TinyViT, fuse_conv_bn

PROMPT_DIM = 256
PATCH = 16  # every encoder here outputs a grid at 1/16 of the input side
PIXEL_MEAN = [123.675, 116.28, 103.53]
PIXEL_STD = [58.395, 57.12, 57.375]
VIT_CONFIGS: dict[str, dict[str, Any]] = {
    "vit_b": {"embed_dim": 768, "depth": 12, "num_heads": 12, "global_attn_indexes": [2, 5, 8, 11]},
    "vit_l": {"embed_dim": 1024, "depth": 24, "num_heads": 16, "global_attn_indexes": [5, 11, 17, 23]},
    "vit_h": {"embed_dim": 1280, "depth": 32, "num_heads": 16, "global_attn_indexes": [7, 15, 23, 31]},
}


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be read or whose tensors do not fit the architecture."""


def _assemble(image_encoder: torch.nn.Module, image_size: int) -> torch.nn.Module:
    modeling = sam_modeling()
    grid = image_size // PATCH
    return modeling.Sam(
        image_encoder=image_encoder,
        prompt_encoder=modeling.PromptEncoder(
            embed_dim=PROMPT_DIM,
            image_embedding_size=(grid, grid),
            input_image_size=(image_size, image_size),
            mask_in_chans=16,
        ),
        mask_decoder=modeling.MaskDecoder(
            num_multimask_outputs=3,
            transformer=modeling.TwoWayTransformer(depth=2, embedding_dim=PROMPT_DIM, mlp_dim=2048, num_heads=8),
            transformer_dim=PROMPT_DIM,
            iou_head_depth=3,
            iou_head_hidden_dim=256,
        ),
        pixel_mean=PIXEL_MEAN,
        pixel_std=PIXEL_STD,
    )


def load_checkpoint(model: torch.nn.Module, checkpoint: str | Path, architecture: str) -> None:
    """Load a plain state_dict strictly: every tensor must have its place, and every place a tensor."""
    try:
        state = torch.load(checkpoint, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, ValueError) as error:
        raise CheckpointError(f"cannot read checkpoint {checkpoint}: {error}") from None
    missing, unexpected = model.state_dict().keys() - state.keys(), state.keys() - model.state_dict().keys()
    if missing or unexpected:
        raise CheckpointError(
            f"{checkpoint} is not a {architecture} checkpoint: "
            f"{len(missing)} missing keys (e.g. {sorted(missing)[:3]}), "
            f"{len(unexpected)} unexpected keys (e.g. {sorted(unexpected)[:3]})"
        )
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as error:  # same names, wrong shapes
        raise CheckpointError(f"{checkpoint} does not fit {architecture}: {error}") from None


def build_mobile_sam(
    checkpoint: str | Path | None = None, image_size: int = 1024, fuse: bool = True
) -> torch.nn.Module:
    """MobileSAM for inference; `fuse=False` keeps the checkpoint's module layout (batch norms apart)."""
    encoder = TinyViT(img_size=image_size, out_chans=PROMPT_DIM)
    sam = _assemble(encoder, image_size)
    if checkpoint is not None:
        load_checkpoint(sam, checkpoint, "MobileSAM")
    sam.eval()
    if fuse:
        fuse_conv_bn(encoder)
    return sam


def build_sam_vit(variant: str, checkpoint: str | Path | None = None, image_size: int = 1024) -> torch.nn.Module:
    """SAM with the ViT image encoder of `variant` (vit_b, vit_l or vit_h)."""
    try:
        config = VIT_CONFIGS[variant]
    except KeyError:
        raise ValueError(f"unknown SAM variant {variant!r}; choose one of {', '.join(VIT_CONFIGS)}") from None
    encoder = sam_modeling().ImageEncoderViT(
        img_size=image_size,
        patch_size=PATCH,
        mlp_ratio=4,
        norm_layer=partial(torch.nn.LayerNorm, eps=1e-6),
        qkv_bias=True,
        use_rel_pos=True,
        window_size=14,
        out_chans=PROMPT_DIM,
        **config,
    )
    sam = _assemble(encoder, image_size)
    if checkpoint is not None:
        load_checkpoint(sam, checkpoint, f"SAM {variant}")
    return sam.eval()
