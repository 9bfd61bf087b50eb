"""Task heads and the model that joins a backbone to one: ``TaskModel(backbone, head)``.

The head sees the backbone's last hidden states and the attention mask, so every task (sentence
or token level) plugs into the same forward pass."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)


class SequenceHead(nn.Module):
    """Pool the sentence (mean of tokens, or the first token), optionally L2-normalise it (as
    sentence-embedding models are trained), then dropout -> linear."""

    def __init__(
        self, hidden: int, n_out: int, pooling: str = "mean", dropout: float = 0.1, normalize: bool = False
    ) -> None:
        super().__init__()
        if pooling not in ("mean", "cls"):
            raise ValueError(f"pooling must be 'mean' or 'cls', not {pooling!r}")
        self.pooling = pooling
        self.normalize = normalize
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(hidden, n_out)

    def features(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        pooled = mean_pool(hidden, mask) if self.pooling == "mean" else hidden[:, 0]
        return nn.functional.normalize(pooled.float(), dim=-1).to(pooled.dtype) if self.normalize else pooled

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.out(self.dropout(self.features(hidden, mask)))


class TokenHead(nn.Module):
    """Dropout -> linear on every token."""

    def __init__(self, hidden: int, n_out: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(hidden, n_out)

    def features(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return hidden

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.out(self.dropout(hidden))


class TaskModel(nn.Module):
    """A backbone (a transformers encoder, possibly wrapped by a method) plus a task head.

    ``virtual_tokens``: positions a method prepends (soft prompts); their hidden states are dropped.
    ``prefix_cache``: optional store of frozen lower-layer outputs per training example (see
    ``models/prefix_cache.py``), used when the batch carries ``example_ids`` (training batches, and
    the linear probe over the training set, which fills it)."""

    def __init__(self, backbone: nn.Module, head: nn.Module) -> None:
        super().__init__()
        self.backbone = backbone
        self.head = head
        self.virtual_tokens = 0
        self.prefix_cache: Any = None

    def hidden_states(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, example_ids: torch.Tensor | None = None
    ) -> torch.Tensor:
        if self.prefix_cache is not None and example_ids is not None:
            return self.prefix_cache.forward(self.backbone, input_ids, attention_mask, example_ids)
        hidden = self.backbone(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return hidden[:, self.virtual_tokens :] if self.virtual_tokens else hidden

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        example_ids: torch.Tensor | None = None,
        **_: torch.Tensor,
    ) -> torch.Tensor:
        return self.head(self.hidden_states(input_ids, attention_mask, example_ids), attention_mask)

    @torch.no_grad()
    def features(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, example_ids: torch.Tensor | None = None
    ) -> torch.Tensor:
        """What the head's linear layer sees (without dropout): for linear probes and embeddings.
        ``example_ids``: the rows are these training examples (their frozen prefix is cached)."""
        return self.head.features(self.hidden_states(input_ids, attention_mask, example_ids), attention_mask)
