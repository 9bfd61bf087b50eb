"""LoRA through peft: low-rank updates on the chosen linear layers; the head always trains."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ..models.backbones import BackboneSpec
from .base import LAYERS_HELP, MethodOptions, register
from .peft_base import PeftMethod


class LoraOptions(MethodOptions):
    r: int = Field(8, ge=1, description="rank of the update matrices")
    alpha: float = Field(16.0, gt=0, description="scaling numerator (update is scaled by alpha / r)")
    dropout: float = Field(0.05, ge=0.0, lt=1.0, description="dropout on the LoRA input")
    target_modules: list[str] | None = Field(None, description="module names; default: the backbone's own")
    rslora: bool = Field(False, description="rank-stabilised scaling alpha / sqrt(r)")
    dora: bool = Field(False, description="weight-decomposed LoRA (DoRA)")
    layers: list[int] | None = Field(None, description=LAYERS_HELP)


@register
class LoRA(PeftMethod):
    name = "lora"
    summary = "low-rank updates W + BA on attention and feed-forward projections; merges into W"
    Options = LoraOptions
    can_merge = True

    def default_lr(self) -> float:
        return 5e-4

    def peft_config(self, backbone: Any, spec: BackboneSpec, total_steps: int | None) -> Any:
        from peft import LoraConfig

        o: LoraOptions = self.options  # type: ignore[assignment]
        return LoraConfig(
            r=o.r,
            lora_alpha=o.alpha,
            lora_dropout=o.dropout,
            bias="none",
            target_modules=list(o.target_modules or spec.lora_targets),
            use_rslora=o.rslora,
            use_dora=o.dora,
        )
