"""TinyViT-5M image encoder of MobileSAM, inference only.

MobileSAM replaces SAM's ViT image encoder by this small hybrid network (convolutions in the
first stage, windowed attention after) distilled from SAM ViT-H; the prompt encoder and mask
decoder are SAM's own. The architecture follows TinyViT (Wu et al., ECCV 2022, MIT licence) as
adapted by MobileSAM (Zhang et al. 2023, Apache-2.0), rewritten without timm. Module and
parameter names match `mobile_sam.pt` exactly so that it loads with `strict=True`; the ImageNet
classifier (`norm_head`, `head`) is unused by SAM but kept because the checkpoint carries it.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.fusion import fuse_conv_bn_eval

from groundlens.core.pipeline.segmentation.sam_modeling import sam_modeling


class Conv2dBN(nn.Sequential):
    """Bias-free convolution followed by batch norm (checkpoint names: `c`, `bn`)."""

    c: nn.Conv2d  # set by add_module, declared for the type checker
    bn: nn.BatchNorm2d

    def __init__(self, in_chans: int, out_chans: int, kernel: int = 1, stride: int = 1, pad: int = 0, groups: int = 1):
        super().__init__()
        self.add_module("c", nn.Conv2d(in_chans, out_chans, kernel, stride, pad, groups=groups, bias=False))
        self.add_module("bn", nn.BatchNorm2d(out_chans))


def fuse_conv_bn(module: nn.Module) -> nn.Module:
    """Fold every Conv2dBN's batch norm into its convolution, in place, for inference.

    Call after loading weights (the checkpoint names `c`/`bn` disappear). On CPU this is the
    difference between about 5.5 s and 1.3 s per MobileSAM image on 2 cores: an unfused batch
    norm makes oneDNN copy every activation out of and back into its blocked layout.
    """
    for name, child in module.named_children():
        if isinstance(child, Conv2dBN):
            setattr(module, name, fuse_conv_bn_eval(child.c, child.bn))
        else:
            fuse_conv_bn(child)
    return module


class PatchEmbed(nn.Module):
    """Two stride-2 convolutions: the image becomes a grid at 1/4 resolution."""

    def __init__(self, in_chans: int, embed_dim: int):
        super().__init__()
        self.seq = nn.Sequential(
            Conv2dBN(in_chans, embed_dim // 2, 3, 2, 1),
            nn.GELU(),
            Conv2dBN(embed_dim // 2, embed_dim, 3, 2, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.seq(x)


class MBConv(nn.Module):
    """Inverted residual block (expand, depthwise 3x3, project) of the convolutional stage."""

    def __init__(self, chans: int, expand_ratio: float):
        super().__init__()
        hidden = int(chans * expand_ratio)
        self.conv1 = Conv2dBN(chans, hidden)
        self.conv2 = Conv2dBN(hidden, hidden, 3, 1, 1, groups=hidden)
        self.conv3 = Conv2dBN(hidden, chans)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.gelu(self.conv1(x))
        y = F.gelu(self.conv2(y))
        return F.gelu(self.conv3(y) + x)


class PatchMerging(nn.Module):
    """Changes width between stages; halves the grid unless `stride` is 1 (MobileSAM's last merge)."""

    def __init__(self, resolution: tuple[int, int], dim: int, out_dim: int, stride: int):
        super().__init__()
        self.resolution = resolution
        self.conv1 = Conv2dBN(dim, out_dim)
        self.conv2 = Conv2dBN(out_dim, out_dim, 3, stride, 1, groups=out_dim)
        self.conv3 = Conv2dBN(out_dim, out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim == 3:  # tokens (B, H*W, C) from an attention stage
            h, w = self.resolution
            x = x.view(len(x), h, w, -1).permute(0, 3, 1, 2)
        x = F.gelu(self.conv1(x))
        x = F.gelu(self.conv2(x))
        return self.conv3(x).flatten(2).transpose(1, 2)


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(self.norm(x))))


class Attention(nn.Module):
    """Multi-head self-attention inside a window, with a learned bias per relative offset (LeViT)."""

    attention_bias_idxs: torch.Tensor  # a buffer, declared for the type checker

    def __init__(self, dim: int, num_heads: int, window: int):
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.scale = self.head_dim**-0.5
        self.norm = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        points = list(itertools.product(range(window), range(window)))
        offsets: dict[tuple[int, int], int] = {}
        idxs = [offsets.setdefault((abs(p[0] - q[0]), abs(p[1] - q[1])), len(offsets)) for p in points for q in points]
        self.attention_biases = nn.Parameter(torch.zeros(num_heads, len(offsets)))
        self.register_buffer("attention_bias_idxs", torch.tensor(idxs).view(len(points), len(points)), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, _ = x.shape
        qkv = self.qkv(self.norm(x)).view(b, n, self.num_heads, 3 * self.head_dim)
        q, k, v = qkv.permute(0, 2, 1, 3).split(self.head_dim, dim=3)
        attn = (q @ k.transpose(-2, -1)) * self.scale + self.attention_biases[:, self.attention_bias_idxs]
        x = attn.softmax(dim=-1) @ v  # explicit: faster on CPU than SDPA with a float mask
        return self.proj(x.transpose(1, 2).reshape(b, n, -1))


class TinyViTBlock(nn.Module):
    """Windowed attention, a depthwise 3x3 convolution for locality, then an MLP."""

    def __init__(self, dim: int, resolution: tuple[int, int], num_heads: int, window: int, mlp_ratio: float):
        super().__init__()
        self.resolution = resolution
        self.window = window
        self.attn = Attention(dim, num_heads, window)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))
        self.local_conv = Conv2dBN(dim, dim, 3, 1, 1, groups=dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = self.resolution
        b, n, c = x.shape
        x = x + self._windowed_attention(x.view(b, h, w, c)).reshape(b, n, c)
        x = self.local_conv(x.transpose(1, 2).reshape(b, c, h, w)).view(b, c, n).transpose(1, 2)
        return x + self.mlp(x)

    def _windowed_attention(self, x: torch.Tensor) -> torch.Tensor:
        b, h, w, c = x.shape
        ws = self.window
        pad_b, pad_r = (ws - h % ws) % ws, (ws - w % ws) % ws
        x = F.pad(x, (0, 0, 0, pad_r, 0, pad_b))
        nh, nw = (h + pad_b) // ws, (w + pad_r) // ws
        windows = x.view(b, nh, ws, nw, ws, c).transpose(2, 3).reshape(b * nh * nw, ws * ws, c)
        x = self.attn(windows).view(b, nh, nw, ws, ws, c).transpose(2, 3).reshape(b, nh * ws, nw * ws, c)
        return x[:, :h, :w]


class ConvLayer(nn.Module):
    def __init__(self, dim: int, depth: int, expand_ratio: float, downsample: PatchMerging):
        super().__init__()
        self.blocks = nn.ModuleList(MBConv(dim, expand_ratio) for _ in range(depth))
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = block(x)
        return self.downsample(x)


class BasicLayer(nn.Module):
    def __init__(self, blocks: list[TinyViTBlock], downsample: PatchMerging | None):
        super().__init__()
        self.blocks = nn.ModuleList(blocks)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = block(x)
        return x if self.downsample is None else self.downsample(x)


class TinyViT(nn.Module):
    """Image (B, 3, S, S) -> SAM image embedding (B, 256, S/16, S/16); S is `img_size`.

    The defaults are MobileSAM's TinyViT-5M. `img_size` is read by `Sam.preprocess` (padding)
    and by the predictor (resizing), as for SAM's `ImageEncoderViT`.
    """

    def __init__(
        self,
        img_size: int = 1024,
        in_chans: int = 3,
        embed_dims: Sequence[int] = (64, 128, 160, 320),
        depths: Sequence[int] = (2, 2, 6, 2),
        num_heads: Sequence[int] = (2, 4, 5, 10),
        window_sizes: Sequence[int] = (7, 7, 14, 7),
        mlp_ratio: float = 4.0,
        mbconv_expand_ratio: float = 4.0,
        out_chans: int = 256,
        num_classes: int = 1000,
    ):
        super().__init__()
        self.img_size = img_size
        self.patch_embed = PatchEmbed(in_chans, embed_dims[0])
        side = img_size // 4
        last = len(depths) - 1
        self.layers = nn.ModuleList()
        for i, (dim, depth) in enumerate(zip(embed_dims, depths)):
            res = (side, side)
            stride = 1 if i >= last - 1 else 2  # MobileSAM keeps 1/16 resolution into the last stage
            downsample = PatchMerging(res, dim, embed_dims[i + 1], stride) if i < last else None
            if i == 0:
                assert downsample is not None, "TinyViT needs more than one stage"
                self.layers.append(ConvLayer(dim, depth, mbconv_expand_ratio, downsample))
            else:
                blocks = [TinyViTBlock(dim, res, num_heads[i], window_sizes[i], mlp_ratio) for _ in range(depth)]
                self.layers.append(BasicLayer(blocks, downsample))
            side //= stride
        self.grid = side
        self.norm_head = nn.LayerNorm(embed_dims[-1])
        self.head = nn.Linear(embed_dims[-1], num_classes)
        layer_norm_2d = sam_modeling().common.LayerNorm2d
        self.neck = nn.Sequential(
            nn.Conv2d(embed_dims[-1], out_chans, kernel_size=1, bias=False),
            layer_norm_2d(out_chans),
            nn.Conv2d(out_chans, out_chans, kernel_size=3, padding=1, bias=False),
            layer_norm_2d(out_chans),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(x)
        for layer in self.layers:
            x = layer(x)
        b, _, c = x.shape
        return self.neck(x.view(b, self.grid, self.grid, c).permute(0, 3, 1, 2))
