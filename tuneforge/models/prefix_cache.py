"""Frozen-prefix caching: when a method leaves the embeddings and the lower N layers frozen and runs
them in inference mode, their output for a training example is the same in every epoch. The cache
computes it once (first time the example is seen) and later batches run only the upper layers.

Exact by construction (the cached tensor is what the frozen layers compute, in full precision);
results can differ from an uncached run only by floating-point rounding, because a cached example's
lower layers ran inside a different padded batch. Works on BERT-style encoders (``embeddings`` +
``encoder.layer``).

A method can also leave the start of its first trained layer frozen (a Pfeiffer adapter trains
nothing before the FFN's output projection): its ``LayerCut`` names the sub-modules of that layer
whose outputs depend on the layer's input alone. The cache then stores those outputs too and the
cached forward serves them in place of computing them, so only what follows the first trained
parameter runs in every epoch."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

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


@dataclass(frozen=True)
class LayerCut:
    """The frozen start of the first trained layer. ``captures``: sub-module paths inside that layer
    (``""``: the layer's input), in the order they run, whose outputs depend on the layer's input
    alone (the method runs them in inference mode); ``skipped``: sub-modules whose results only feed
    the captured ones, replaced by pass-throughs when the captures are served from the cache."""

    captures: tuple[str, ...]
    skipped: tuple[str, ...] = ()

    def describe(self) -> str:
        return ", ".join(c or "input" for c in self.captures)


class _Filled(Exception):
    """Ends the filling forward pass once the last captured output is known."""


class _Serve(nn.Module):
    """Stands in for a sub-module: returns a stored output (in the original's tuple shape)."""

    def __init__(self, value: torch.Tensor | None, tuple_len: int) -> None:
        super().__init__()
        self.value, self.tuple_len = value, tuple_len

    def forward(self, *args: object, **kwargs: object) -> object:
        value = self.value if self.value is not None else args[0]
        return (value,) + (None,) * (self.tuple_len - 1) if self.tuple_len else value


@contextmanager
def _swapped(layer: nn.Module, stand_ins: dict[str, nn.Module]) -> Iterator[None]:
    originals = {path: layer.get_submodule(path) for path in stand_ins}
    try:
        for path, module in stand_ins.items():
            _set(layer, path, module)
        yield
    finally:
        for path, module in originals.items():
            _set(layer, path, module)


def _set(root: nn.Module, path: str, module: nn.Module) -> None:
    parent, _, attr = path.rpartition(".")
    setattr(root.get_submodule(parent) if parent else root, attr, module)


class FrozenPrefixCache:
    def __init__(self, n_layers: int, cut: LayerCut | None = None) -> None:
        self.n_layers = n_layers
        self.cut = cut
        self.store: dict[int, torch.Tensor] = {}
        self.bytes = 0
        self._widths: list[int] = []  # per capture, its last dimension (they are stored side by side)
        self._tuple_len: dict[str, int] = {}  # per stubbed sub-module: 0, or the length of its tuple output

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
            with torch.no_grad():
                lower = self._frozen(base, input_ids[rows], attention_mask[rows])
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
        upper = slice(self.n_layers, None)
        if self.cut is None:
            with only_layers(base, upper, passthrough=True):
                return base(inputs_embeds=hidden, attention_mask=attention_mask).last_hidden_state
        parts = dict(zip(self.cut.captures, hidden.split(self._widths, dim=-1), strict=True))
        layer_input = parts.pop("", None)
        if layer_input is None:  # the layer's input feeds nothing that still runs
            layer_input = torch.zeros_like(hidden[..., : base.config.hidden_size])
        layer = base.encoder.layer[self.n_layers]
        stand_ins: dict[str, nn.Module] = {p: _Serve(v, self._tuple_len[p]) for p, v in parts.items()}
        stand_ins |= {p: _Serve(None, self._tuple_len[p]) for p in self.cut.skipped}
        with (
            only_layers(base, upper, passthrough=True),
            _swapped(layer, stand_ins),
        ):
            return base(
                inputs_embeds=layer_input.contiguous(), attention_mask=attention_mask
            ).last_hidden_state

    def _frozen(self, base: nn.Module, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """The frozen prefix's outputs for a batch: the lower layers' output, or with a cut the
        captured outputs of the first trained layer side by side (the pass stops after the last)."""
        if self.cut is None:
            with only_layers(base, slice(0, self.n_layers), passthrough=False):
                return base(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        layer = base.encoder.layer[self.n_layers]
        captured: dict[str, torch.Tensor] = {}
        last = self.cut.captures[-1]

        def keep(path: str):
            def hook(module: nn.Module, args: tuple, kwargs: dict, output: object = None) -> None:
                if path == "":
                    captured[path] = args[0] if args else kwargs["hidden_states"]
                elif path in self.cut.captures:  # type: ignore[union-attr]
                    captured[path] = output[0] if isinstance(output, tuple) else output  # type: ignore[assignment]
                if path:
                    self._tuple_len[path] = len(output) if isinstance(output, tuple) else 0
                if path == last:
                    raise _Filled

            return hook

        handles = (
            [layer.register_forward_pre_hook(keep(""), with_kwargs=True)] if "" in self.cut.captures else []
        )
        for path in (*self.cut.captures, *self.cut.skipped):
            if path:
                handles.append(layer.get_submodule(path).register_forward_hook(keep(path), with_kwargs=True))
        try:
            with only_layers(base, slice(0, self.n_layers + 1), passthrough=False):
                base(input_ids=input_ids, attention_mask=attention_mask)
        except _Filled:
            pass
        finally:
            for h in handles:
                h.remove()
        missing = [c or "input" for c in self.cut.captures if c not in captured]
        missing += [c for c in self.cut.skipped if c not in self._tuple_len]
        if missing:
            raise RuntimeError(f"the frozen-prefix cache never saw {missing} run in layer {self.n_layers}")
        values = [captured[c] for c in self.cut.captures]
        self._widths = [v.shape[-1] for v in values]
        return torch.cat(values, dim=-1)


def estimate_bytes(total_tokens: int, hidden_size: int, element_size: int = 4) -> int:
    return total_tokens * hidden_size * element_size
