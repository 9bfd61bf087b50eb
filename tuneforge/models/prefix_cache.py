"""Frozen-prefix caching: when a method leaves the embeddings and the lower N layers frozen and runs
them in inference mode, their output for a training example is the same in every epoch. The cache
computes it once (first time the example is seen) and later batches run only the upper layers.

Exact by construction (the cached tensor is what the frozen layers compute, in full precision);
results can differ from an uncached run only by floating-point rounding, because a cached example's
lower layers ran inside a different padded batch. Works on BERT-style encoders (``embeddings`` +
``encoder.layer``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn


class _Passthrough(nn.Module):
    """Stands in for the embeddings: the cached hidden states come in as ``inputs_embeds``."""

    def forward(self, inputs_embeds: torch.Tensor | None = None, **_: object) -> torch.Tensor:
        assert inputs_embeds is not None
        return inputs_embeds


def supports_prefix_cache(backbone: nn.Module) -> bool:
    base = base_model(backbone)
    return (
        hasattr(base, "embeddings")
        and isinstance(getattr(base, "encoder", None), nn.Module)
        and hasattr(base.encoder, "layer")
    )


def base_model(backbone: nn.Module) -> nn.Module:
    return backbone.get_base_model() if hasattr(backbone, "get_base_model") else backbone


@contextmanager
def only_layers(base: nn.Module, part: slice, passthrough: bool) -> Iterator[None]:
    """Run ``base`` (a BERT-style encoder) with only the encoder layers in ``part``; with
    ``passthrough`` the embeddings are skipped (the input is already hidden states)."""
    layers, embeddings = base.encoder.layer, base.embeddings
    base.encoder.layer = nn.ModuleList(list(layers)[part])
    if passthrough:
        base.embeddings = _Passthrough()
    try:
        yield
    finally:
        base.encoder.layer, base.embeddings = layers, embeddings


class FrozenPrefixCache:
    def __init__(self, n_layers: int) -> None:
        self.n_layers = n_layers
        self.store: dict[int, torch.Tensor] = {}
        self.bytes = 0

    def forward(
        self,
        backbone: nn.Module,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        example_ids: torch.Tensor,
    ) -> torch.Tensor:
        base = base_model(backbone)
        ids = example_ids.tolist()
        lengths = attention_mask.sum(1).tolist()
        missing = [j for j, i in enumerate(ids) if i not in self.store]
        if missing:
            rows = torch.tensor(missing, device=input_ids.device)
            with torch.no_grad(), only_layers(base, slice(0, self.n_layers), passthrough=False):
                lower = base(input_ids=input_ids[rows], attention_mask=attention_mask[rows]).last_hidden_state
            for k, j in enumerate(missing):
                kept = lower[k, : int(lengths[j])].detach().clone()
                self.store[ids[j]] = kept
                self.bytes += kept.numel() * kept.element_size()
        first = self.store[ids[0]]
        hidden = torch.zeros(
            (len(ids), input_ids.shape[1], first.shape[-1]), dtype=first.dtype, device=input_ids.device
        )
        for j, i in enumerate(ids):
            hidden[j, : int(lengths[j])] = self.store[i]
        with only_layers(base, slice(self.n_layers, None), passthrough=True):
            return base(inputs_embeds=hidden, attention_mask=attention_mask).last_hidden_state


def estimate_bytes(total_tokens: int, hidden_size: int, element_size: int = 4) -> int:
    return total_tokens * hidden_size * element_size
