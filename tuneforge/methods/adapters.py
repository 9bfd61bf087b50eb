"""Bottleneck adapters (tuneforge's own module; peft has none): a small down-project / non-linearity
/ up-project block with a residual connection, inserted after a sub-layer's output projection,
before that sub-layer's residual sum and LayerNorm.

- ``placement: houlsby``: two adapters per layer, after the attention block and after the FFN;
- ``placement: pfeiffer``: one adapter per layer, after the FFN (half the parameters, similar scores).

The up-projection starts at zero, so training starts from exactly the pretrained model."""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field
from torch import nn

from ..models.backbones import BackboneSpec
from ..models.heads import TaskModel
from ..models.prefix_cache import LayerCut
from . import targets
from .base import LAYERS_HELP, Method, MethodOptions, freeze_backbone, freeze_cut, freeze_prefix, register

ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU, "swish": nn.SiLU, "tanh": nn.Tanh}


class Bottleneck(nn.Module):
    def __init__(self, hidden: int, size: int, activation: str, dropout: float) -> None:
        super().__init__()
        self.down = nn.Linear(hidden, size)
        self.act = ACTIVATIONS[activation]()
        self.dropout = nn.Dropout(dropout)
        self.up = nn.Linear(size, hidden)
        nn.init.normal_(self.down.weight, std=0.02)
        nn.init.zeros_(self.down.bias)
        nn.init.zeros_(self.up.weight)
        nn.init.zeros_(self.up.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.up(self.dropout(self.act(self.down(x))))


class AdaptedLinear(nn.Module):
    """A frozen linear layer followed by a bottleneck adapter."""

    def __init__(self, base: nn.Linear, adapter: Bottleneck) -> None:
        super().__init__()
        self.base = base
        self.adapter = adapter

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.adapter(self.base(x))


class AdapterOptions(MethodOptions):
    placement: Literal["houlsby", "pfeiffer"] = Field("pfeiffer", description="where adapters go")
    reduction_factor: int = Field(16, ge=1, description="bottleneck size = hidden size / reduction_factor")
    activation: Literal["relu", "gelu", "swish", "tanh"] = "relu"
    dropout: float = Field(0.0, ge=0.0, lt=1.0, description="dropout inside the bottleneck")
    layers: list[int] | None = Field(None, description=LAYERS_HELP)
    train_layernorm: bool = Field(False, description="also train the backbone's LayerNorms")


@register
class Adapters(Method):
    name = "adapter"
    summary = "bottleneck adapters after the attention and/or FFN blocks (Houlsby / Pfeiffer)"
    Options = AdapterOptions

    def default_lr(self) -> float:
        return 1e-3

    def apply(self, model: TaskModel, spec: BackboneSpec, *, total_steps: int | None = None) -> None:
        o: AdapterOptions = self.options  # type: ignore[assignment]
        freeze_backbone(model)
        backbone = model.backbone
        n_layers = len(targets.layer_stack(backbone))
        wanted = (
            set(range(n_layers)) if o.layers is None else targets.check_layers(backbone, o.layers, self.name)
        )
        roles = ["attn_out", "ffn_out"] if o.placement == "houlsby" else ["ffn_out"]
        names = [n for role in roles for n in targets.find(backbone, role, self.name)]
        hidden = backbone.config.hidden_size
        size = max(1, hidden // o.reduction_factor)
        for name in names:
            if targets.layer_index(name) not in wanted:
                continue
            parent_name, _, attr = name.rpartition(".")
            parent = backbone.get_submodule(parent_name)
            base = getattr(parent, attr)
            adapter = Bottleneck(base.out_features, size, o.activation, o.dropout).to(base.weight.device)
            setattr(parent, attr, AdaptedLinear(base, adapter))
        if o.train_layernorm:
            for _, module in targets.norm_modules(backbone):
                for p in module.parameters():
                    p.requires_grad_(True)
        k = self.frozen_prefix(model)
        if k:
            freeze_prefix(model, k)
            cut = self.frozen_cut(model)
            if cut is not None:
                freeze_cut(model, k, cut)

    def frozen_prefix(self, model: TaskModel) -> int:
        """The layers below the lowest adapted one are untouched (unless every LayerNorm trains)."""
        o: AdapterOptions = self.options  # type: ignore[assignment]
        return 0 if o.layers is None or o.train_layernorm else min(o.layers)

    def frozen_cut(self, model: TaskModel) -> LayerCut | None:
        """In the lowest adapted layer of a BERT-style encoder, everything before the first adapter is
        frozen too: with ``pfeiffer`` the attention block and the FFN up to its output projection,
        with ``houlsby`` the self-attention and its output projection."""
        k = self.frozen_prefix(model)
        if not k or targets.family(model.backbone) != "bert":
            return None
        o: AdapterOptions = self.options  # type: ignore[assignment]
        cut = _PFEIFFER_CUT if o.placement == "pfeiffer" else _HOULSBY_CUT
        layer = targets.layer_stack(model.backbone)[k]
        if getattr(layer, "chunk_size_feed_forward", 0):  # the FFN runs in slices of the sequence
            return None
        try:
            for path in (*cut.captures, *cut.skipped):
                if path:
                    layer.get_submodule(path)
        except AttributeError:
            return None
        return cut


# BERT-style layer: attention (self-attention, then attention.output: dense, dropout, LayerNorm with the
# layer's input), intermediate (dense + activation), output (dense, dropout, LayerNorm with the attention
# block's output). The adapter wraps the output projection (``.dense``; its frozen linear is ``.base``).
_PFEIFFER_CUT = LayerCut(captures=("attention", "output.dense.base"), skipped=("intermediate",))
_HOULSBY_CUT = LayerCut(captures=("", "attention.output.dense.base"), skipped=("attention.self",))
