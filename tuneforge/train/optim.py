"""Optimiser and schedule: AdamW with no weight decay on biases and LayerNorm weights, a separate
learning rate for the task head, warmup then linear or cosine decay."""

from __future__ import annotations

import math

import torch
from torch import nn

from ..config import TrainConfig


def _no_decay(name: str, param: torch.Tensor) -> bool:
    lowered = name.lower()
    return param.ndim < 2 or "layernorm" in lowered or "layer_norm" in lowered or lowered.endswith(".bias")


def build_optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    lr = cfg.lr if cfg.lr is not None else 5e-5  # the pipeline resolves a method default first
    head_lr = cfg.head_lr if cfg.head_lr is not None else lr * 10
    groups: dict[tuple[bool, bool], list[torch.Tensor]] = {}
    for name, p in model.named_parameters():
        if p.requires_grad:
            groups.setdefault((name.startswith("head."), _no_decay(name, p)), []).append(p)
    params = [
        {"params": ps, "lr": head_lr if is_head else lr, "weight_decay": 0.0 if nd else cfg.weight_decay}
        for (is_head, nd), ps in sorted(groups.items())
    ]
    try:  # the fused kernel: one pass over all parameters, several times faster per step on CPU and GPU
        return torch.optim.AdamW(params, lr=lr, weight_decay=cfg.weight_decay, fused=True)
    except (RuntimeError, TypeError):  # parameters or devices it does not support
        return torch.optim.AdamW(params, lr=lr, weight_decay=cfg.weight_decay)


def build_scheduler(opt: torch.optim.Optimizer, cfg: TrainConfig, total_steps: int):
    warmup = int(cfg.warmup * total_steps) if cfg.warmup < 1 else int(cfg.warmup)

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / max(1, warmup)
        if cfg.schedule == "constant":
            return 1.0
        progress = min(1.0, (step - warmup) / max(1, total_steps - warmup))
        if cfg.schedule == "cosine":
            return 0.5 * (1.0 + math.cos(math.pi * progress))
        return max(0.0, 1.0 - progress)

    return torch.optim.lr_scheduler.LambdaLR(opt, factor)
