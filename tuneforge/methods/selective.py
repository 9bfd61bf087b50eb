"""Methods that train a chosen subset of the backbone's own parameters (nothing is added):

- ``bitfit``: only the bias terms;
- ``layernorm``: only the normalisation layers' scales and shifts;
- ``partial``: the upper layers; the lower ``freeze_layers`` layers and the embeddings are frozen and
  run in inference mode (no dropout), which makes their outputs cacheable (see ``frozen_prefix``).

Saved as the trained subset only (``adapter.safetensors``) plus the head. Merging is trivial: the
model has no extra modules."""

from __future__ import annotations

from pydantic import Field

from ..errors import ConfigError
from ..models.backbones import BackboneSpec
from ..models.heads import TaskModel
from . import targets
from .base import Method, MethodOptions, freeze_backbone, freeze_prefix, register


class _Selective(Method):
    can_merge = True

    def merge(self, model: TaskModel) -> TaskModel:
        return model


@register
class BitFit(_Selective):
    name = "bitfit"
    summary = "only the bias terms of the backbone train"

    def default_lr(self) -> float:
        return 1e-3

    def apply(self, model: TaskModel, spec: BackboneSpec, *, total_steps: int | None = None) -> None:
        freeze_backbone(model)
        biases = [p for n, p in model.backbone.named_parameters() if n.endswith(".bias")]
        if not biases:
            raise ConfigError(f"method 'bitfit' cannot apply to backbone {spec.name!r}: it has no bias terms")
        for p in biases:
            p.requires_grad_(True)


@register
class LayerNormTuning(_Selective):
    name = "layernorm"
    summary = "only the LayerNorm / RMSNorm scales and shifts train"

    def default_lr(self) -> float:
        return 1e-3

    def apply(self, model: TaskModel, spec: BackboneSpec, *, total_steps: int | None = None) -> None:
        freeze_backbone(model)
        norms = targets.norm_modules(model.backbone)
        if not norms:
            raise ConfigError(
                f"method 'layernorm' cannot apply to backbone {spec.name!r}: it has no normalisation layers"
            )
        for _, module in norms:
            for p in module.parameters():
                p.requires_grad_(True)


class PartialOptions(MethodOptions):
    freeze_layers: int | None = Field(None, ge=0, description="lower layers to freeze; default: half")
    freeze_embeddings: bool = Field(True, description="freeze the embeddings too")


@register
class PartialFineTuning(_Selective):
    name = "partial"
    summary = "the lower N layers (and embeddings) are frozen, the rest trains fully"
    Options = PartialOptions

    def _n_frozen(self, model: TaskModel) -> int:
        n_layers = len(targets.layer_stack(model.backbone))
        n = self.options.freeze_layers  # type: ignore[attr-defined]
        n = n_layers // 2 if n is None else n
        if n > n_layers:
            raise ConfigError(f"method.freeze_layers={n}, but the backbone has only {n_layers} layers")
        return n

    def apply(self, model: TaskModel, spec: BackboneSpec, *, total_steps: int | None = None) -> None:
        n = self._n_frozen(model)
        for p in model.parameters():
            p.requires_grad_(True)
        freeze_prefix(model, n, embeddings=self.options.freeze_embeddings)  # type: ignore[attr-defined]

    def frozen_prefix(self, model: TaskModel) -> int:
        return self._n_frozen(model) if self.options.freeze_embeddings else 0  # type: ignore[attr-defined]
