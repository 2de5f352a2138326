#!/usr/bin/env python3
"""dfbench's unet3d backbone, its Diffusion Forcing training step and rollout, in plain PyTorch eager.

A twin of the C++ code for side-by-side comparison (bench/compare.sh):

  * the network is rebuilt in torch.nn from a run config's "backbone" section, with the
    same tensor names as dfbench's checkpoints (backbones/unet3d/unet3d.cpp,
    backbones/unet_parts.cpp, backbones/backbone.cpp) and the same operations in the same
    order, so an fp32 forward agrees with dfbench's to rounding (<= 1e-4);
  * --checkpoint loads a dfbench checkpoint (tensor/checkpoint.cpp: HDF5, "<group>/<name>"
    float32 datasets, the resolved config JSON in the root attribute "config"), strictly;
  * --probe checks the forward against the output dfbench wrote (`dfbench_bench --twin_probe`);
  * --samples remakes a rollout file of `dfbench sample` (same seeds, same draws) and compares
    its uint8 frames; --train-check replays a training step of a run and compares loss and
    gradient (two checks that need no probe);
  * --time times the three things bench/bench_smoke.cpp times (BM_TrainStep,
    BM_BackboneForward, BM_Rollout) the way a PyTorch user would write them in eager mode,
    and prints one JSON object.

Examples:
  python3 bench/pytorch_twin.py --probe /tmp/probe/twin.h5
  python3 bench/pytorch_twin.py --checkpoint runs/x/checkpoints/step_000450.h5 --group ema
  python3 bench/pytorch_twin.py --time --threads 2 --precision bf16

Needs only torch (1.13 or later), h5py and numpy.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
import time
from typing import Callable

import h5py
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Exit statuses.
EXIT_PARITY = 1  # the forward does not match dfbench's
EXIT_USAGE = 2   # a config, checkpoint or probe that cannot be used (names, shapes, keys)


class TwinError(Exception):
    """A problem with the inputs; main() prints it and exits with EXIT_USAGE."""


# ----------------------------------------------------------------------------------------
# Config: the sections dfbench resolves, with its defaults for what a preset leaves out.
# ----------------------------------------------------------------------------------------

# UNetOptions (backbones/unet_parts.h) and UNet3dOptions (backbones/unet3d/unet3d.cpp).
BACKBONE_DEFAULTS = {
    "name": "unet3d",
    "base": 32,
    "mults": [1, 2, 4],
    "res_blocks": 2,
    "spatial_attention": True,
    "heads": 4,
    "groups": 8,
    "temporal_res": [],      # empty = temporal attention at every resolution
    "position": "rotary",    # rotary | learned
    # "causal": default is whatever the method needs
}
# DiffusionOptions (diffusion/diffusion.h).
DIFFUSION_DEFAULTS = {
    "levels": 1000,
    "schedule": "cosine",
    "zero_terminal_snr": False,
    "prediction": "v",
    "loss_weight": "min_snr",
    "snr_gamma": 5.0,
    "fused_snr_decay": 0.96,
    "clip_noise": 6.0,
    "clip_x0": True,
}
# TrainConfig (train/train_config.h).
TRAIN_DEFAULTS = {
    "frames": 8, "steps": 500, "batch": 16, "lr": 2e-3, "warmup": 50, "min_lr_ratio": 0.1,
    "weight_decay": 0.0, "beta1": 0.9, "beta2": 0.99, "grad_clip": 1.0, "ema_decay": 0.995,
}
# SampleConfig (pipeline/run_config.h).
SAMPLE_DEFAULTS = {"steps": 10, "eta": 0.0, "context": 2, "length": 64, "count": 16, "batch": 16}
# DiffusionForcingOptions (methods/diffusion_forcing/diffusion_forcing.cpp).
DF_DEFAULTS = {"name": "diffusion_forcing", "scheduling": "autoregressive", "chunk": 1, "uncertainty": 1.0,
               "stabilization": 15, "guidance": 1.0, "guidance_history": 1.0}
# Methods whose backbone may see later frames (every other registered method is causal).
NON_CAUSAL_METHODS = {"full_sequence"}


def with_defaults(section: dict | None, defaults: dict) -> dict:
    out = dict(defaults)
    out.update(section or {})
    return out


def load_config(path: str | None) -> dict:
    """A config JSON file, or the smoke preset (configs/smoke.json) when path is None."""
    path = path or os.path.join(REPO, "configs", "smoke.json")
    with open(path) as f:
        return json.load(f)


def data_shape(config: dict) -> tuple[int, int]:
    """(channels, image size) of the frames, as pipeline/run_config.cpp data_shape() finds them."""
    data = config.get("data", {})
    train_file = data.get("train_file", "")
    if train_file:
        if not os.path.exists(train_file):
            raise TwinError(f"data.train_file {train_file} is not here; pass --channels and --image-size")
        with h5py.File(train_file, "r") as f:
            s = f["frames"].shape  # [N, L, H, W, C]
        return int(s[4]), int(s[2])
    dataset = data.get("dataset", "bouncing_shapes")
    options = data.get("options", {})
    if dataset == "bouncing_shapes":
        return 3, int(options.get("size", 32))
    if dataset == "moving_fashion_mnist":
        return 1, int(options.get("size", 64))
    if dataset == "video_folder":
        return (1 if options.get("gray", False) else 3), int(options.get("size", 32))
    raise TwinError(f"unknown dataset '{dataset}': pass --channels and --image-size")


# ----------------------------------------------------------------------------------------
# The network (docs/design.md §3.1), op for op as the C++.
# ----------------------------------------------------------------------------------------

def level_features(levels: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal features [M, dim] of levels ℓ/N (flattened), scaled by 1000 (unet_parts.cpp)."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=levels.dtype) / float(half))
    args = levels.reshape(-1, 1) * 1000.0 * freqs.reshape(1, -1)
    return torch.cat([torch.sin(args), torch.cos(args)], 1)


def rotary_positions(x: torch.Tensor, first: int = 0) -> torch.Tensor:
    """Rotary positions over the second-to-last axis of x [..., T, d] (backbone.cpp).

    Channel pairs (i, i + d/2) of position p = first + index are rotated by p·10000^(−2i/d).
    The angles are computed in fp32 and cast to x's dtype before cos/sin, as dfbench does
    (this matters under bf16 autocast).
    """
    t, d = x.size(-2), x.size(-1)
    half = d // 2
    theta = torch.exp(torch.arange(half, dtype=torch.float32) * (-2.0 * math.log(10000.0) / d))
    angle = (torch.arange(first, first + t, dtype=torch.float32).unsqueeze(1) * theta.unsqueeze(0)).to(x.dtype)
    cos, sin = angle.cos(), angle.sin()
    x1, x2 = x[..., :half], x[..., half:2 * half]
    out = torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], -1)
    return out if d % 2 == 0 else torch.cat([out, x[..., 2 * half:]], -1)


def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool) -> torch.Tensor:
    """softmax(q kᵀ/√d) v, causal: query t sees keys <= t (tensor/compat.cpp).

    dfbench uses the fused kernel from torch 2.0 on and the explicit formula before; so does this.
    """
    if hasattr(F, "scaled_dot_product_attention"):
        return F.scaled_dot_product_attention(q, k, v, dropout_p=0.0, is_causal=causal)
    scale = 1.0 / math.sqrt(q.size(-1))
    scores = torch.matmul(q, k.transpose(-2, -1)) * scale
    if causal:
        mask = torch.ones(q.size(-2), k.size(-2), dtype=torch.bool).triu(1)
        scores = scores.masked_fill(mask, float("-inf"))
    return torch.matmul(torch.softmax(scores, -1), v)


def conv3x3(cin: int, cout: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=1)


class GroupNorm(nn.GroupNorm):
    """nn.GroupNorm that normalizes in fp32 and returns its input's dtype.

    Under CPU bf16 autocast a convolution hands GroupNorm a bf16 input while its weights stay
    fp32; torch 1.13's CPU kernel refuses mixed dtypes (autocast does not list group_norm for
    the CPU), so the statistics and the affine map run on the input cast to fp32 and the
    result is cast back, which is what later PyTorch versions' mixed-dtype CPU GroupNorm do
    natively. In fp32 this is nn.GroupNorm exactly.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dtype == self.weight.dtype:
            return super().forward(x)
        return F.group_norm(x.to(self.weight.dtype), self.num_groups, self.weight, self.bias, self.eps).to(x.dtype)


def zero_init(m: nn.Module) -> None:
    """A residual branch that starts as the identity (dfbench's zero_init)."""
    nn.init.zeros_(m.weight)
    nn.init.zeros_(m.bias)


class ResBlock(nn.Module):
    """GN → SiLU → conv → GN → FiLM → SiLU → conv, plus a (1×1 when channels change) skip."""

    def __init__(self, cin: int, cout: int, emb_dim: int, groups: int):
        super().__init__()
        self.norm1 = GroupNorm(groups, cin)
        self.conv1 = conv3x3(cin, cout)
        self.film = nn.Linear(emb_dim, 2 * cout)
        self.norm2 = GroupNorm(groups, cout)
        self.conv2 = conv3x3(cout, cout)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else None
        zero_init(self.conv2)

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        scale, shift = self.film(F.silu(emb)).unsqueeze(-1).unsqueeze(-1).chunk(2, 1)
        h = self.norm2(h) * (1 + scale) + shift
        h = self.conv2(F.silu(h))
        return (self.skip(x) if self.skip is not None else x) + h


class SelfAttention(nn.Module):
    """Multi-head self-attention over tokens [N, L, C] (the caller adds the residual)."""

    def __init__(self, channels: int, heads: int, rotary: bool = False):
        super().__init__()
        self.heads = heads
        self.rotary = rotary
        self.qkv = nn.Linear(channels, 3 * channels)
        self.proj = nn.Linear(channels, channels)
        zero_init(self.proj)

    def forward(self, tokens: torch.Tensor, causal: bool) -> torch.Tensor:
        n, l, c = tokens.shape
        qkv = self.qkv(tokens).reshape(n, l, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        if self.rotary:
            q = rotary_positions(q)
            k = rotary_positions(k)
        o = attention(q, k, v, causal)
        return self.proj(o.permute(0, 2, 1, 3).reshape(n, l, c))


class SpatialAttention(nn.Module):
    """Attention across the pixels of each frame, residual included: h [N, C, H, W]."""

    def __init__(self, channels: int, heads: int, groups: int):
        super().__init__()
        self.norm = GroupNorm(groups, channels)
        self.attn = SelfAttention(channels, heads)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        n, c, hh, ww = h.shape
        x = self.norm(h).flatten(2).transpose(1, 2)  # [N, HW, C]
        x = self.attn(x, causal=False)
        return h + x.transpose(1, 2).reshape(n, c, hh, ww)


class TemporalAttention(nn.Module):
    """Attention across the frames of each pixel ([B·H·W, T, C]), GroupNorm first, residual added."""

    def __init__(self, channels: int, heads: int, groups: int, max_frames: int, learned_position: bool):
        super().__init__()
        self.norm = GroupNorm(groups, channels)
        self.attn = SelfAttention(channels, heads, rotary=not learned_position)
        self.position = nn.Parameter(torch.randn(max_frames, channels) * 0.02) if learned_position else None

    def forward(self, h: torch.Tensor, b: int, t: int, causal: bool) -> torch.Tensor:
        _, c, hh, ww = h.shape
        x = self.norm(h).reshape(b, t, c, hh, ww).permute(0, 3, 4, 1, 2).reshape(b * hh * ww, t, c)
        if self.position is not None:
            x = x + self.position[:t].unsqueeze(0)
        x = self.attn(x, causal)
        return h + x.reshape(b, hh, ww, t, c).permute(0, 3, 4, 1, 2).reshape(b * t, c, hh, ww)


class UNet3d(nn.Module):
    """dfbench's unet3d: a 2D U-Net over all B·T frames, temporal attention, FiLM levels.

    forward(x [B, T, C, H, W], levels [B, T] = ℓ/N) → [B, T, C, H, W]. Submodules carry
    dfbench's names (down{i}_res{j}, down{i}_temporal, down{i}_sample, mid_*, up{i}_*, ...),
    so state_dict() keys are the checkpoint's names.
    """

    KEYS = set(BACKBONE_DEFAULTS) | {"causal"}

    def __init__(self, options: dict, channels: int, image_size: int, max_frames: int, causal: bool,
                 channels_last: bool = True):
        super().__init__()
        o = with_defaults(options, BACKBONE_DEFAULTS)
        unknown = sorted(set(o) - self.KEYS)
        if unknown:
            raise TwinError(f"backbone: unknown option(s) {unknown} (unet3d takes {sorted(self.KEYS)})")
        if o["name"] != "unet3d":
            raise TwinError(f"backbone: this twin builds unet3d only, not '{o['name']}'")
        if o["position"] not in ("rotary", "learned"):
            raise TwinError(f"backbone.position must be rotary or learned, got {o['position']!r}")
        base, mults, groups, heads = int(o["base"]), [int(m) for m in o["mults"]], int(o["groups"]), int(o["heads"])
        if base % groups or base % heads or not mults or image_size % (1 << (len(mults) - 1)):
            raise TwinError(f"backbone: base {base}, groups {groups}, heads {heads}, mults {mults} do not fit "
                            f"{image_size}x{image_size} frames")
        self.options = o
        self.base, self.mults, self.res_blocks = base, mults, int(o["res_blocks"])
        self.channels, self.image_size, self.max_frames = channels, image_size, max_frames
        self.causal = bool(o.get("causal", causal))
        self.channels_last = channels_last
        emb, depth = 4 * base, len(mults)
        temporal_res = [int(r) for r in o["temporal_res"]]
        learned = o["position"] == "learned"

        def temporal_here(level: int) -> bool:
            return not temporal_res or (image_size >> level) in temporal_res

        def temporal(ch: int) -> TemporalAttention:
            return TemporalAttention(ch, heads, groups, max_frames, learned)

        self.level_mlp = nn.Sequential(nn.Linear(base, emb), nn.SiLU(), nn.Linear(emb, emb))
        self.conv_in = conv3x3(channels, base)
        # The down path: per level, res_blocks blocks, temporal attention, a stride-2 conv.
        self.down: list[tuple[list[str], str | None, str | None]] = []  # (blocks, temporal, sample) names
        ch = base
        skip_ch = [ch]
        for i in range(depth):
            cout = base * mults[i]
            blocks = []
            for j in range(self.res_blocks):
                self.add_module(f"down{i}_res{j}", ResBlock(ch, cout, emb, groups))
                blocks.append(f"down{i}_res{j}")
                ch = cout
                skip_ch.append(ch)
            tname = sname = None
            if temporal_here(i):
                tname = f"down{i}_temporal"
                self.add_module(tname, temporal(ch))
            if i + 1 < depth:
                sname = f"down{i}_sample"
                self.add_module(sname, conv3x3(ch, ch, 2))
                skip_ch.append(ch)
            self.down.append((blocks, tname, sname))
        # The middle: block → spatial attention → temporal attention → block.
        self.mid_res1 = ResBlock(ch, ch, emb, groups)
        self.mid_spatial = SpatialAttention(ch, heads, groups) if o["spatial_attention"] else None
        self.mid_temporal = temporal(ch)
        self.mid_res2 = ResBlock(ch, ch, emb, groups)
        # The up path: per level (deepest first), res_blocks + 1 blocks on concatenated skips,
        # temporal attention where the down path had it, nearest ×2 and a 3×3 conv.
        self.up: list[tuple[list[str], str | None, str | None]] = []
        for i in range(depth - 1, -1, -1):
            cout = base * mults[i]
            blocks = []
            for j in range(self.res_blocks + 1):
                self.add_module(f"up{i}_res{j}", ResBlock(ch + skip_ch.pop(), cout, emb, groups))
                blocks.append(f"up{i}_res{j}")
                ch = cout
            tname = sname = None
            if temporal_here(i):
                tname = f"up{i}_temporal"
                self.add_module(tname, temporal(ch))
            if i > 0:
                sname = f"up{i}_sample"
                self.add_module(sname, conv3x3(ch, ch))
            self.up.append((blocks, tname, sname))
        self.norm_out = GroupNorm(groups, ch)
        self.conv_out = conv3x3(ch, channels)
        zero_init(self.conv_out)
        if channels_last:
            self.to(memory_format=torch.channels_last)  # dfbench keeps every 4-D weight channels-last

    def forward(self, x: torch.Tensor, levels: torch.Tensor) -> torch.Tensor:
        b, t, c, hh, ww = x.shape
        if t > self.max_frames or c != self.channels or hh != self.image_size or ww != self.image_size:
            raise TwinError(f"unet3d: input {list(x.shape)} does not fit this model (at most {self.max_frames} "
                            f"frames of {self.channels}x{self.image_size}x{self.image_size})")
        emb = self.level_mlp(level_features(levels.reshape(-1).to(x.dtype), self.base))
        h = x.reshape(b * t, c, hh, ww)
        if self.channels_last:
            h = h.contiguous(memory_format=torch.channels_last)
        h = self.conv_in(h)
        skips = [h]
        for blocks, tname, sname in self.down:
            for name in blocks:
                h = getattr(self, name)(h, emb)
                skips.append(h)
            if tname:
                h = getattr(self, tname)(h, b, t, self.causal)
                skips[-1] = h  # the skip is taken after temporal attention
            if sname:
                h = getattr(self, sname)(h)
                skips.append(h)
        h = self.mid_res1(h, emb)
        if self.mid_spatial is not None:
            h = self.mid_spatial(h)
        h = self.mid_temporal(h, b, t, self.causal)
        h = self.mid_res2(h, emb)
        for blocks, tname, sname in self.up:
            for name in blocks:
                h = getattr(self, name)(torch.cat([h, skips.pop()], 1), emb)
            if tname:
                h = getattr(self, tname)(h, b, t, self.causal)
            if sname:
                h = getattr(self, sname)(F.interpolate(h, scale_factor=2.0, mode="nearest"))
        h = self.conv_out(F.silu(self.norm_out(h)))
        return h.reshape(b, t, c, hh, ww)


def build_model(config: dict, channels: int | None = None, image_size: int | None = None,
                channels_last: bool = True) -> UNet3d:
    """The backbone of a run config, shaped as dfbench shapes it (pipeline/run_parts.cpp backbone_shape)."""
    c, s = data_shape(config) if channels is None or image_size is None else (channels, image_size)
    c, s = channels or c, image_size or s
    max_frames = int(with_defaults(config.get("train"), TRAIN_DEFAULTS)["frames"])
    method = config.get("method", {}).get("name", "diffusion_forcing")
    return UNet3d(config.get("backbone", {}), c, s, max_frames, causal=method not in NON_CAUSAL_METHODS,
                  channels_last=channels_last)


# ----------------------------------------------------------------------------------------
# Checkpoints and probes (tensor/checkpoint.cpp).
# ----------------------------------------------------------------------------------------

def read_group(path: str, group: str) -> dict[str, np.ndarray]:
    """Every dataset under /<group> of an HDF5 file, by its name relative to the group."""
    out: dict[str, np.ndarray] = {}
    with h5py.File(path, "r") as f:
        if group not in f:
            raise TwinError(f"{path}: no group '{group}' (it has {sorted(f.keys())})")

        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                out[name] = obj[()]
        f[group].visititems(visit)
    return out


def read_config_attr(path: str) -> dict:
    """The resolved config JSON a dfbench checkpoint carries (root attribute "config")."""
    with h5py.File(path, "r") as f:
        fmt = f.attrs.get("format")
        if isinstance(fmt, bytes):
            fmt = fmt.decode()
        if fmt != "dfbench checkpoint":
            raise TwinError(f"{path}: not a dfbench checkpoint (format attribute {fmt!r})")
        text = f.attrs.get("config")
    if text is None:
        raise TwinError(f"{path}: no 'config' attribute")
    return json.loads(text.decode() if isinstance(text, bytes) else text)


def load_tensors(model: nn.Module, tensors: dict[str, np.ndarray], what: str) -> None:
    """Copies tensors into the model by name; every name and shape must match, none missing or left over."""
    own = dict(model.named_parameters())
    own.update(dict(model.named_buffers()))
    missing = sorted(set(own) - set(tensors))
    extra = sorted(set(tensors) - set(own))
    wrong = [f"{n}: file {list(tensors[n].shape)}, model {list(own[n].shape)}"
             for n in own if n in tensors and tuple(tensors[n].shape) != tuple(own[n].shape)]
    if missing or extra or wrong:
        lines = [f"{what} does not match the twin's unet3d:"]
        if missing:
            lines.append(f"  missing from the file ({len(missing)}): " + ", ".join(missing))
        if extra:
            lines.append(f"  in the file but not in the model ({len(extra)}): " + ", ".join(extra))
        if wrong:
            lines.append(f"  shapes differ ({len(wrong)}): " + "; ".join(wrong))
        raise TwinError("\n".join(lines))
    with torch.no_grad():
        for name, p in own.items():
            p.copy_(torch.from_numpy(np.ascontiguousarray(tensors[name], dtype=np.float32)))


# ----------------------------------------------------------------------------------------
# Diffusion (diffusion/diffusion.cpp): schedule, forward process, targets, loss, DDIM.
# ----------------------------------------------------------------------------------------

class Diffusion:
    def __init__(self, options: dict | None):
        self.o = with_defaults(options, DIFFUSION_DEFAULTS)
        self.n = int(self.o["levels"])
        self.alpha_bar = self._alpha_bar()  # [N + 1] float64

    def _alpha_bar(self) -> torch.Tensor:
        n, f64 = self.n, torch.float64
        if self.o["schedule"] == "linear":
            betas = torch.linspace(1e-4, 0.02, n, dtype=f64)
        else:
            t = torch.linspace(0.0, 1.0, n + 1, dtype=f64)
            if self.o["schedule"] == "cosine":
                s = 0.008
                f = torch.cos((t + s) / (1 + s) * math.pi / 2).pow(2)
            elif self.o["schedule"] == "sigmoid":
                start, end, tau = -3.0, 3.0, 1.0
                v_start, v_end = 1 / (1 + math.exp(-start / tau)), 1 / (1 + math.exp(-end / tau))
                f = (v_end - torch.sigmoid((t * (end - start) + start) / tau)) / (v_end - v_start)
            else:
                raise TwinError(f"diffusion.schedule: unknown '{self.o['schedule']}'")
            f = f / f[0]
            betas = (1 - f[1:] / f[:n]).clamp(0, 0.999)
        ab = torch.cat([torch.ones(1, dtype=f64), torch.cumprod(1.0 - betas, 0)])
        if self.o["zero_terminal_snr"]:
            s = ab.sqrt()
            s0, sn = s[0].item(), s[n].item()
            ab = ((s - sn) * (s0 / (s0 - sn))).pow(2)
        return ab

    def level_of_step(self, step: int, steps: int) -> int:
        return int(round(step * self.n / steps))  # llround: halves away from zero (never a tie here)

    def noise_like(self, like: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        eps = torch.randn(like.shape, generator=gen)
        clip = float(self.o["clip_noise"])
        return eps.clamp(-clip, clip) if clip > 0 else eps

    def coefficients(self, levels: torch.Tensor, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """√ᾱ and √(1−ᾱ) at int64 levels [B, T], shaped [B, T, 1, 1, 1] in like's dtype."""
        ab = self.alpha_bar[levels.reshape(-1)].reshape(levels.shape).to(like.dtype)
        ab = ab.reshape(*levels.shape, *([1] * (like.dim() - levels.dim())))
        return ab.sqrt(), (1 - ab).clamp_min(0).sqrt()

    def q_sample(self, x0, levels, eps):
        a, s = self.coefficients(levels, x0)
        return a * x0 + s * eps

    def target(self, x0, eps, levels):
        if self.o["prediction"] == "v":
            a, s = self.coefficients(levels, x0)
            return a * eps - s * x0
        return eps if self.o["prediction"] == "eps" else x0

    def estimate(self, xt, prediction, levels):
        """(x̂₀, ε̂) from the network output at x_ℓ, x̂₀ clamped to [-1, 1] when clip_x0."""
        a, s = self.coefficients(levels, xt)
        p = self.o["prediction"]
        if p == "v":
            x0, eps = a * xt - s * prediction, s * xt + a * prediction
        elif p == "eps":
            eps, x0 = prediction, (xt - s * prediction) / a.clamp_min(1e-8)
        else:
            x0, eps = prediction, (xt - a * prediction) / s.clamp_min(1e-8)
        if self.o["clip_x0"]:
            x0 = x0.clamp(-1, 1)
            eps = torch.where(s > 1e-8, (xt - a * x0) / s.clamp_min(1e-8), eps)
        return x0, eps

    def loss_weights(self, levels: torch.Tensor) -> torch.Tensor:
        """Per-frame weights [B, T] (0 where ℓ = 0): min_snr | fused_snr | uniform."""
        ab = self.alpha_bar[levels.reshape(-1)].reshape(levels.shape)
        gamma, p = float(self.o["snr_gamma"]), self.o["prediction"]
        snr = ab / (1 - ab).clamp_min(1e-20)
        if self.o["loss_weight"] == "uniform":
            w = torch.ones_like(snr)
        elif self.o["loss_weight"] == "min_snr":
            clipped = snr.clamp_max(gamma)
            w = clipped / (snr + 1) if p == "v" else clipped / snr.clamp_min(1e-20) if p == "eps" else clipped
        else:  # fused_snr
            d = float(self.o["fused_snr_decay"])
            norm_clipped, norm = snr.clamp_max(gamma) / gamma, snr / gamma
            cum = torch.zeros_like(norm)
            for t in range(1, levels.size(1)):
                prev = norm_clipped[:, t - 1]
                cum[:, t] = prev if t == 1 else d * cum[:, t - 1] + (1 - d) * prev
            fused_clipped = 1 - (1 - cum * d) * (1 - norm_clipped)
            fused = 1 - (1 - cum * d) * (1 - norm)
            w = (fused_clipped * gamma / (fused * gamma + 1) if p == "v"
                 else fused_clipped / fused.clamp_min(1e-20) if p == "eps" else fused_clipped * gamma)
        w = torch.where(levels == 0, torch.zeros_like(w), w)
        return w.to(torch.float32)

    def loss(self, prediction, target, levels, mask):
        """Σ mask·w·mean_CHW (pred − target)² / Σ mask."""
        per_frame = (prediction - target).pow(2).flatten(2).mean(-1)  # [B, T]
        w = self.loss_weights(levels) * mask
        return (per_frame * w).sum() / mask.sum().clamp_min(1)


def precision_context(precision: str):
    """bf16: autocast on the CPU around the backbone's calls (as dfbench's Autocast guard)."""
    if precision == "bf16":
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()


# ----------------------------------------------------------------------------------------
# What is timed: the training step, the forward, the rollout.
# ----------------------------------------------------------------------------------------

class Trainer:
    """One Diffusion Forcing training step as train/trainer.cpp does it, written as a PyTorch user would.

    forward under autocast (bf16) → fp32 loss with per-frame levels (min-SNR, v target) →
    backward → global grad clip → torch.optim.AdamW → EMA update.
    """

    def __init__(self, model: UNet3d, diffusion: Diffusion, train: dict, precision: str, ema: bool = True):
        self.model, self.diffusion, self.train, self.precision = model, diffusion, train, precision
        self.params = [p for p in model.parameters()]
        # dfbench's AdamW: betas and weight decay from the config, eps 1e-8 (torch's default weight decay is 0.01).
        self.opt = torch.optim.AdamW(self.params, lr=float(train["lr"]), betas=(float(train["beta1"]),
                                     float(train["beta2"])), eps=1e-8, weight_decay=float(train["weight_decay"]))
        self.ema = [p.detach().clone() for p in self.params] if ema else None
        self.step_count = 0

    def learning_rate(self, step: int) -> float:
        t = self.train
        if step < t["warmup"]:
            return t["lr"] * (step + 1) / t["warmup"]
        progress = min(1.0, (step - t["warmup"]) / max(1, t["steps"] - t["warmup"]))
        return t["lr"] * (t["min_lr_ratio"] + (1 - t["min_lr_ratio"]) * 0.5 * (1 + math.cos(math.pi * progress)))

    def loss(self, x0: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        d = self.diffusion
        levels = torch.randint(0, d.n + 1, x0.shape[:2], generator=gen)  # Diffusion Forcing: U{0..N} per frame
        mask = (levels > 0).to(torch.float32)
        eps = d.noise_like(x0, gen)
        xt = d.q_sample(x0, levels, eps)
        with precision_context(self.precision):
            pred = self.model(xt, levels.to(torch.float32) / d.n)
        return d.loss(pred.float(), d.target(x0, eps, levels), levels, mask)

    def step(self, x0: torch.Tensor, gen: torch.Generator) -> float:
        loss = self.loss(x0, gen)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(self.params, float(self.train["grad_clip"]))
        for group in self.opt.param_groups:
            group["lr"] = self.learning_rate(self.step_count)
        self.opt.step()
        if self.ema is not None:
            self.ema_update()
        self.step_count += 1
        return float(grad_norm)

    @torch.no_grad()
    def ema_update(self) -> None:
        step = self.step_count
        d = min(float(self.train["ema_decay"]), (1.0 + step) / (10.0 + step))
        for e, p in zip(self.ema, self.params):
            e.mul_(d).add_(p, alpha=1 - d)


def scheduling_matrix(mode: str, steps: int, frames: int, uncertainty: float) -> list[list[int]]:
    """Diffusion Forcing's plan for a chunk (methods/diffusion_forcing/scheduling.cpp): rows of step indices."""
    if mode == "full_sequence":
        return [[steps - row] * frames for row in range(steps + 1)]
    if mode == "autoregressive":
        lag = [t * steps for t in range(frames)]
    elif mode == "pyramid":
        lag = [int(math.floor(t * uncertainty + 1e-9)) for t in range(frames)]
    elif mode == "trapezoid":
        lag = [int(math.floor(min(t, frames - 1 - t) * uncertainty + 1e-9)) for t in range(frames)]
    else:
        raise TwinError(f"method.scheduling: unknown '{mode}'")
    return [[min(max(steps + lag[t] - row, 0), steps) for t in range(frames)] for row in range(steps + max(lag) + 1)]


@torch.no_grad()
def rollout(model: UNet3d, diffusion: Diffusion, context: torch.Tensor, horizon: int, method: dict, steps: int,
            precision: str, gen: torch.Generator) -> torch.Tensor:
    """A Diffusion Forcing rollout as an eager user writes it: no key/value cache, every step runs the window.

    New frames come `chunk` at a time behind a sliding window of the last (window − chunk)
    frames; the history is shown noised to the stabilization level (once per chunk) and
    labelled with it; within a chunk the scheduling matrix says each frame's level per call;
    each call is a deterministic DDIM step (η = 0) from the full window's prediction.
    Returns [B, n_ctx + horizon, C, H, W].
    """
    if float(method["guidance"]) != 1.0:
        raise TwinError("the twin's rollout has no history guidance (method.guidance must be 1)")
    d = diffusion
    window, chunk, stab = model.max_frames, int(method["chunk"]), int(method["stabilization"])
    b, n_ctx = context.shape[:2]
    video = torch.empty(b, n_ctx + horizon, *context.shape[2:])
    video[:, :n_ctx] = context
    have = n_ctx
    while have < n_ctx + horizon:
        h = min(chunk, n_ctx + horizon - have)
        past = min(have, window - h)
        history = video[:, have - past:have]
        # The draws in dfbench's order: the chunk's noise, then the history's stabilization noise.
        x = torch.randn(b, h, *context.shape[2:], generator=gen)
        history_levels = torch.full((b, past), stab, dtype=torch.long)
        shown = d.q_sample(history, history_levels, d.noise_like(history, gen)) if stab > 0 else history
        plan = scheduling_matrix(method["scheduling"], steps, h, float(method["uncertainty"]))
        for row in range(len(plan) - 1):
            if plan[row] == plan[row + 1]:
                continue
            lv_from = torch.tensor([d.level_of_step(s, steps) for s in plan[row]]).expand(b, h)
            lv_to = torch.tensor([d.level_of_step(s, steps) for s in plan[row + 1]]).expand(b, h)
            # Frames of the chunk that are already clean are shown stabilized like the history.
            stable = (lv_from == 0) & (lv_to == 0)
            shown_levels = torch.where(stable, torch.full_like(lv_from, stab), lv_from)
            x_in = torch.where(stable.reshape(b, h, 1, 1, 1), d.q_sample(x, shown_levels, d.noise_like(x, gen)), x) \
                if stab > 0 and bool(stable.any()) else x
            levels = torch.cat([history_levels, shown_levels], 1)
            with precision_context(precision):
                pred = model(torch.cat([shown, x_in], 1), levels.to(torch.float32) / d.n)[:, past:]
            x0, eps = d.estimate(x_in, pred.float(), shown_levels)
            a_to, s_to = d.coefficients(lv_to, x)
            moving = (lv_from != lv_to).reshape(b, h, 1, 1, 1)
            x = torch.where(moving, a_to * x0 + s_to * eps, x)
        video[:, have:have + h] = x
        have += h
    return video


def smoke_batch(batch: int, frames: int, channels: int, size: int) -> torch.Tensor:
    """Frames in [-1, 1] as bench_smoke.cpp's smoke_batch (torch.manual_seed(0), rand·2 − 1)."""
    torch.manual_seed(0)
    return torch.rand(batch, frames, channels, size, size) * 2 - 1


def timed(fn: Callable[[], object], min_time: float, min_iters: int = 1, max_iters: int | None = None,
          warmup: int = 1) -> tuple[int, float]:
    """(iterations, seconds): fn run `warmup` times untimed, then until min_time and min_iters are reached."""
    for _ in range(warmup):
        fn()
    n, t0 = 0, time.perf_counter()
    while True:
        fn()
        n += 1
        elapsed = time.perf_counter() - t0
        if (elapsed >= min_time and n >= min_iters) or (max_iters is not None and n >= max_iters):
            return n, elapsed


def run_timing(config: dict, args, tensors: dict[str, np.ndarray] | None) -> dict:
    train = with_defaults(config.get("train"), TRAIN_DEFAULTS)
    sample = with_defaults(config.get("sample"), SAMPLE_DEFAULTS)
    method = with_defaults(config.get("method"), DF_DEFAULTS)
    if method["name"] != "diffusion_forcing":
        method = dict(DF_DEFAULTS)  # the twin times Diffusion Forcing, whatever the config's method
    diffusion = Diffusion(config.get("diffusion"))
    quick = args.quick
    cl = args.memory_format == "channels_last"

    def fresh_model() -> UNet3d:
        torch.manual_seed(int(config.get("seed", 0)))  # weight initialisation, as the benchmarks do
        m = build_model(config, args.channels, args.image_size, channels_last=cl)
        if tensors is not None:
            load_tensors(m, tensors, "the checkpoint")
        return m

    result = {"precision": args.precision, "threads": torch.get_num_threads(), "torch": torch.__version__,
              "memory_format": args.memory_format, "quick": quick}
    want = set(args.only.split(",")) if args.only else {"train", "forward", "rollout"}

    # (a) the training step, batch train.batch x train.frames (BM_TrainStep).
    if "train" in want:
        model = fresh_model().train()
        trainer = Trainer(model, diffusion, train, args.precision, ema=not args.no_ema)
        x0 = smoke_batch(int(train["batch"]), int(train["frames"]), model.channels, model.image_size)
        counter = [0]

        def train_step():
            gen = torch.Generator().manual_seed(counter[0])
            counter[0] += 1
            trainer.step(x0, gen)

        n, secs = timed(train_step, min_time=1.0 if quick else 5.0, min_iters=2, warmup=1 if quick else 2)
        # The EMA update alone, to show its share of the step.
        ema_n, ema_secs = timed(trainer.ema_update, min_time=0.2, min_iters=5, warmup=1) \
            if trainer.ema is not None else (1, 0.0)
        frames = int(train["batch"]) * int(train["frames"])
        result["train_step"] = {"batch": int(train["batch"]), "frames": int(train["frames"]), "iterations": n,
                                "seconds": secs, "steps_per_s": n / secs, "ms_per_step": 1000 * secs / n,
                                "frames_per_s": n * frames / secs, "ema": trainer.ema is not None,
                                "ema_ms": 1000 * ema_secs / ema_n}
        del model, trainer

    # (b) the eval forward, sample.batch x train.frames, no grad (BM_BackboneForward).
    if "forward" in want:
        model = fresh_model().eval()
        b, t = int(sample["batch"]), int(train["frames"])
        x = smoke_batch(b, t, model.channels, model.image_size)
        levels = torch.rand(b, t)

        def forward():
            with torch.no_grad(), precision_context(args.precision):
                model(x, levels)

        n, secs = timed(forward, min_time=1.0 if quick else 3.0, min_iters=2, warmup=1 if quick else 2)
        result["forward"] = {"batch": b, "frames": t, "iterations": n, "seconds": secs, "steps_per_s": n / secs,
                             "ms_per_step": 1000 * secs / n, "frames_per_s": n * b * t / secs}
        del model

    # (c) the rollout: sample.batch rollouts of args.horizon frames after sample.context (BM_Rollout/14).
    if "rollout" in want:
        model = fresh_model().eval()
        b, n_ctx, steps = int(sample["batch"]), int(sample["context"]), int(sample["steps"])
        if float(sample["eta"]) != 0:
            raise TwinError("the twin's rollout is deterministic DDIM (sample.eta must be 0)")
        context = smoke_batch(b, n_ctx, model.channels, model.image_size)
        seed = [0]

        def one(horizon: int):
            gen = torch.Generator().manual_seed(seed[0])
            seed[0] += 1
            rollout(model, diffusion, context, horizon, method, steps, args.precision, gen)

        one(1)  # warm-up: one frame (10 window calls)
        n, secs = timed(lambda: one(args.horizon), min_time=0.0, min_iters=1 if quick else 2, warmup=0)
        calls_per_frame = len(scheduling_matrix(method["scheduling"], steps, 1, float(method["uncertainty"]))) - 1
        result["rollout"] = {"rollouts": b, "context": n_ctx, "horizon": args.horizon, "steps": steps,
                             "chunk": int(method["chunk"]), "stabilization": int(method["stabilization"]),
                             "window": model.max_frames, "kv_cache": False, "iterations": n, "seconds": secs,
                             "steps_per_s": n / secs, "ms_per_step": 1000 * secs / n,
                             "frames_per_s": n * b * args.horizon / secs,
                             "backbone_calls_per_rollout": args.horizon * calls_per_frame
                             if int(method["chunk"]) == 1 else None}
    return result


# ----------------------------------------------------------------------------------------
# Parity with dfbench's forward.
# ----------------------------------------------------------------------------------------

def check_probe(path: str, args) -> int:
    """Forward on probe/x, probe/levels against dfbench's probe/y (fp32) and probe/y_bf16 (bf16 autocast)."""
    config = read_config_attr(path)
    model = build_model(config, args.channels, args.image_size, channels_last=args.memory_format == "channels_last")
    tensors = read_group(args.checkpoint, args.group) if args.checkpoint else read_group(path, "model")
    load_tensors(model, tensors, f"{args.checkpoint or path} /{args.group if args.checkpoint else 'model'}")
    model.eval()
    probe = read_group(path, "probe")
    for key in ("x", "levels", "y"):
        if key not in probe:
            raise TwinError(f"{path}: no probe/{key}")
    x, levels = torch.from_numpy(probe["x"]), torch.from_numpy(probe["levels"])
    y = torch.from_numpy(probe["y"])
    with torch.no_grad():
        y32 = model(x, levels)
    diff32 = (y32 - y).abs().max().item()
    scale = y.abs().max().item()
    ok = diff32 <= args.tolerance
    report = {"probe": path, "x": list(x.shape), "output_max_abs": scale,
              "fp32": {"max_abs_diff": diff32, "mean_abs_diff": (y32 - y).abs().mean().item(),
                       "tolerance": args.tolerance, "ok": ok}}
    if "y_bf16" in probe:
        yb = torch.from_numpy(probe["y_bf16"])
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
            y16 = model(x, levels)
        diff16 = (y16.float() - yb).abs().max().item()
        rel = diff16 / max(scale, 1e-12)
        report["bf16"] = {"max_abs_diff": diff16, "mean_abs_diff": (y16.float() - yb).abs().mean().item(),
                          "relative_to_output_max": rel,
                          "max_abs_diff_vs_fp32_reference": (y16.float() - y).abs().max().item(),
                          "dfbench_bf16_vs_fp32": (yb - y).abs().max().item(),
                          "ok": rel <= 5e-2}
        if rel > 5e-2:
            print(f"warning: bf16 forward differs from dfbench's by {diff16:.3g} ({rel:.1%} of the output's "
                  f"scale)", file=sys.stderr)
        if rel > 0.5:  # not rounding any more: a different function
            ok = False
    print(json.dumps(report))
    if not report["fp32"]["ok"]:
        print(f"FAIL: fp32 forward differs from dfbench's by {diff32:.3g} > {args.tolerance:g}", file=sys.stderr)
    return 0 if ok else EXIT_PARITY


def step_seed(seed: int, step: int) -> int:
    """base/rng.h step_seed: the seed of training step (or rollout batch) `step` of a run seeded `seed`."""
    m = (1 << 64) - 1
    z = (seed * 0x9E3779B97F4A7C15 + (step & m) + 0x632BE59BD9B4E019) & m
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & m
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & m
    return z ^ (z >> 31)


def check_samples(path: str, args) -> int:
    """Remakes a dfbench rollout file (`dfbench sample`) with the twin and compares the frames.

    The twin's rollout draws its noise in dfbench's order from a generator seeded as
    pipeline/sampler.cpp seeds batch i (step_seed(seed, i)), so on the same weights (the
    checkpoint's EMA, as dfbench samples) it remakes the same uint8 frames, up to rounding
    (dfbench's KV cache and the twin's whole-window calls agree to ~1e-6, which flips a
    pixel where a value sits on a rounding boundary of the 8-bit frames).
    """
    if not args.checkpoint:
        raise TwinError("--samples needs the --checkpoint the rollouts were made from")
    with h5py.File(path, "r") as f:
        methods = [k for k in f.keys() if k != "truth"]
        if len(methods) != 1:
            raise TwinError(f"{path}: expected one method group besides /truth, found {methods}")
        group = f[methods[0]]
        config_text = group.attrs.get("config")
        if config_text is None:
            raise TwinError(f"{path}: /{methods[0]} has no config attribute")
        config = json.loads(config_text.decode() if isinstance(config_text, bytes) else config_text)
        steps, eta = int(group.attrs["steps"]), float(group.attrs["eta"])
        n_ctx = int(f.attrs["context"])
        made = group["frames"][()]      # uint8 [N, L, H, W, C]
        truth = f["truth/frames"][()]
    if eta != 0:
        raise TwinError(f"{path}: made with eta {eta}; the twin's rollout is deterministic DDIM")
    model = build_model(config, args.channels, args.image_size,
                        channels_last=args.memory_format == "channels_last")
    load_tensors(model, read_group(args.checkpoint, args.group), f"{args.checkpoint} /{args.group}")
    model.eval()
    diffusion = Diffusion(config.get("diffusion"))
    method = with_defaults(config.get("method"), DF_DEFAULTS)
    if method["name"] != "diffusion_forcing":
        raise TwinError(f"{path}: made by '{method['name']}'; the twin rolls out Diffusion Forcing only")
    sample = with_defaults(config.get("sample"), SAMPLE_DEFAULTS)
    batch = args.batch or int(sample["batch"])
    seed = args.seed if args.seed is not None else int(config.get("seed", 0))
    count, length = made.shape[:2]
    to_tensor = lambda u8: torch.from_numpy(u8).permute(0, 1, 4, 2, 3).to(torch.float32).div(127.5).sub(1.0)
    ours = []
    for i, first in enumerate(range(0, count, batch)):
        gen = torch.Generator().manual_seed(step_seed(seed, i))
        context = to_tensor(truth[first:first + batch, :n_ctx]).contiguous()
        video = rollout(model, diffusion, context, length - n_ctx, method, steps, args.precision, gen)
        ours.append(video.add(1.0).mul(127.5).round().clamp(0, 255).to(torch.uint8).permute(0, 1, 3, 4, 2).numpy())
    ours = np.concatenate(ours)
    diff = np.abs(ours.astype(np.int16) - made.astype(np.int16))
    per_frame = diff.reshape(count, length, -1).max(axis=(0, 2))
    report = {"samples": path, "rollouts": int(count), "length": int(length), "context": n_ctx, "steps": steps,
              "precision": args.precision, "max_abs_diff_uint8": int(diff.max()),
              "share_of_values_differing": float((diff > 0).mean()),
              "max_abs_diff_uint8_per_frame": [int(v) for v in per_frame]}
    print(json.dumps(report))
    # Rounding may flip a value by one step of 8 bits, rarely; more means another function.
    ok = diff.max() <= 1 and (diff > 0).mean() <= 1e-3 if args.precision == "fp32" else True
    if not ok:
        print(f"FAIL: the twin's rollouts differ from {path} (max {int(diff.max())}/255, "
              f"{(diff > 0).mean():.3%} of values)", file=sys.stderr)
    return 0 if ok else EXIT_PARITY


def check_train_step(run_dir: str, args) -> int:
    """Replays a training step of a dfbench run and compares its loss and clipped gradient (float level).

    The run must read its clips from a dataset file (data.train_file) and keep two consecutive
    checkpoints, step s and s + 1 (e.g. train.steps=2, train.checkpoint_every=1). From the
    weights of checkpoint s, the twin draws step s's batch, levels and noise as
    train/trainer.cpp does (a generator seeded step_seed(seed, s): the windows, then the
    method's levels, then ε) and computes the loss and the clipped gradient. dfbench's come
    from the run: the loss logged for step s + 1 (train.log_every=1), and the gradient from
    AdamW's first moment, m_{s+1} = β₁·m_s + (1 − β₁)·g.
    """
    ckdir = os.path.join(run_dir, "checkpoints")
    files = sorted(f for f in os.listdir(ckdir) if f.startswith("step_") and f.endswith(".h5"))
    if len(files) < 2:
        raise TwinError(f"{ckdir}: needs two consecutive checkpoints (train.checkpoint_every=1)")
    a, b = os.path.join(ckdir, files[-2]), os.path.join(ckdir, files[-1])
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        step_a, step_b = int(fa.attrs["step"]), int(fb.attrs["step"])
        seed = int(fa.attrs["seed"])
    if step_b != step_a + 1:
        raise TwinError(f"{a} and {b} are not consecutive steps ({step_a}, {step_b})")
    config = read_config_attr(a)
    train = with_defaults(config.get("train"), TRAIN_DEFAULTS)
    data_file = config.get("data", {}).get("train_file", "")
    if not data_file:
        raise TwinError(f"{run_dir}: the run must read a dataset file (data.train_file)")
    method = config.get("method", {}).get("name", "diffusion_forcing")
    if method != "diffusion_forcing":
        raise TwinError(f"{run_dir}: trained '{method}'; the twin replays Diffusion Forcing steps only")
    model = build_model(config, channels_last=args.memory_format == "channels_last").train()
    load_tensors(model, read_group(a, "model"), f"{a} /model")
    optim_a, optim_b = read_group(a, "optim"), read_group(b, "optim")
    diffusion = Diffusion(config.get("diffusion"))
    batch, frames = int(train["batch"]), int(train["frames"])
    with h5py.File(data_file, "r") as f:
        clips = f["frames"]  # uint8 [N, L, H, W, C]
        n, length = clips.shape[:2]
        gen = torch.Generator().manual_seed(step_seed(seed, step_a))
        idx = torch.randint(0, n, (batch,), generator=gen)
        off = torch.randint(0, length - frames + 1, (batch,), generator=gen)
        x0 = np.stack([clips[int(i), int(o):int(o) + frames] for i, o in zip(idx, off)])
    x0 = torch.from_numpy(x0).permute(0, 1, 4, 2, 3).to(torch.float32).div(127.5).sub(1.0)
    trainer = Trainer(model, diffusion, train, args.precision, ema=False)
    loss = trainer.loss(x0, gen)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(trainer.params, float(train["grad_clip"]))
    beta1 = float(train["beta1"])
    worst, worst_name, scale = 0.0, "", 0.0
    for name, p in model.named_parameters():
        g_dfb = (optim_b["m/" + name].astype(np.float64) - beta1 * optim_a["m/" + name].astype(np.float64)) / (1 - beta1)
        d = np.abs(p.grad.double().numpy() - g_dfb).max()
        scale = max(scale, np.abs(g_dfb).max())
        if d > worst:
            worst, worst_name = d, name
    logged = None
    with open(os.path.join(run_dir, "train_log.jsonl")) as f:
        for line in f:
            entry = json.loads(line)
            if entry.get("step") == step_b:
                logged = entry["loss"]
    report = {"run": run_dir, "step": step_a, "precision": args.precision, "loss_twin": loss.item(),
              "loss_dfbench": logged, "loss_abs_diff": None if logged is None else abs(loss.item() - logged),
              "grad_max_abs_diff": worst, "grad_max_abs_diff_tensor": worst_name, "grad_max_abs": scale}
    print(json.dumps(report))
    tol = args.tolerance if args.precision == "fp32" else 5e-2
    ok = worst <= tol * max(1.0, scale) and (logged is None or abs(loss.item() - logged) <= tol * max(1.0, logged))
    if not ok:
        print(f"FAIL: the twin's training step differs from dfbench's (see above)", file=sys.stderr)
    return 0 if ok else EXIT_PARITY


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", help="a run config JSON (default: the checkpoint's or probe's config, "
                                    "else configs/smoke.json)")
    p.add_argument("--checkpoint", help="a dfbench checkpoint (.h5) to load the weights from")
    p.add_argument("--group", default="model", choices=["model", "ema"], help="the checkpoint's tensor group")
    p.add_argument("--probe", help="a twin.h5 from `dfbench_bench --twin_probe=DIR`: check the forward against it")
    p.add_argument("--tolerance", type=float, default=1e-4, help="max abs difference allowed in fp32 (1e-4)")
    p.add_argument("--time", action="store_true", help="time training step, forward and rollout; print JSON")
    p.add_argument("--precision", default="fp32", choices=["fp32", "bf16"], help="of the backbone's calls")
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="torch.set_num_threads (default: all)")
    p.add_argument("--quick", action="store_true", help="fewer iterations")
    p.add_argument("--only", help="comma-separated subset of train,forward,rollout to time")
    p.add_argument("--horizon", type=int, default=14, help="new frames per rollout (14, as BM_Rollout/14)")
    p.add_argument("--no-ema", action="store_true", help="leave the EMA update out of the training step")
    p.add_argument("--memory-format", default="channels_last", choices=["channels_last", "contiguous"],
                   help="of the convolutions' weights and input (dfbench: channels_last)")
    p.add_argument("--channels", type=int, help="override the frames' channels (default: from the config's data)")
    p.add_argument("--image-size", type=int, help="override the frame size (default: from the config's data)")
    p.add_argument("--samples", help="a rollout file `dfbench sample` made from --checkpoint: remake it "
                                     "with the twin and compare the frames (use --group ema, as dfbench samples)")
    p.add_argument("--train-check", metavar="RUN", help="replay the last training step of a dfbench run (one "
                   "that reads data.train_file and kept two consecutive checkpoints) and compare loss and gradient")
    p.add_argument("--batch", type=int, help="--samples: rollouts per batch, if not the config's sample.batch")
    p.add_argument("--seed", type=int, help="--samples: the rollout seed, if not the config's seed")
    p.add_argument("--out", help="also write the --time JSON to this file")
    args = p.parse_args(argv)
    if not (args.checkpoint or args.probe or args.time or args.samples or args.train_check):
        p.error("nothing to do: give --checkpoint, --probe, --samples, --train-check and/or --time")
    torch.set_num_threads(max(1, args.threads))

    try:
        status = 0
        if args.probe:
            status = check_probe(args.probe, args)
        config = load_config(args.config) if args.config or not (args.checkpoint or args.probe) else \
            read_config_attr(args.checkpoint or args.probe)
        tensors = None
        if args.checkpoint:
            tensors = read_group(args.checkpoint, args.group)
            model = build_model(config, args.channels, args.image_size)
            load_tensors(model, tensors, f"{args.checkpoint} /{args.group}")
            n = sum(t.numel() for t in model.parameters())
            print(f"{args.checkpoint}: /{args.group} loaded, {len(tensors)} tensors, {n} parameters, "
                  f"every name and shape matched", file=sys.stderr)
        if args.samples:
            status = max(status, check_samples(args.samples, args))
        if args.train_check:
            status = max(status, check_train_step(args.train_check, args))
        if args.time:
            if args.probe and not args.checkpoint:
                tensors = read_group(args.probe, "model")
            result = run_timing(config, args, tensors)
            text = json.dumps(result)
            print(text)
            if args.out:
                with open(args.out, "w") as f:
                    f.write(text + "\n")
        return status
    except TwinError as e:
        print(f"pytorch_twin: {e}", file=sys.stderr)
        return EXIT_USAGE
    except (OSError, KeyError, json.JSONDecodeError) as e:
        print(f"pytorch_twin: {type(e).__name__}: {e}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
