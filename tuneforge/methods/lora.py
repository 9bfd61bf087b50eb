"""LoRA through peft: low-rank updates on the chosen linear layers; the head always trains.

Saved as a peft adapter (``adapter_config.json`` + ``adapter_model.safetensors``) beside the head,
loadable onto the base model with ``peft.PeftModel.from_pretrained``."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from safetensors.torch import load_file, save_file

from ..models.backbones import BackboneSpec
from ..models.heads import TaskModel
from .base import Method, MethodOptions, register


class LoraOptions(MethodOptions):
    r: int = Field(8, ge=1, description="rank of the update matrices")
    alpha: float = Field(16.0, gt=0, description="scaling numerator (update is scaled by alpha / r)")
    dropout: float = Field(0.05, ge=0.0, lt=1.0, description="dropout on the LoRA input")
    target_modules: list[str] | None = Field(None, description="module names; default: the backbone's own")
    rslora: bool = Field(False, description="rank-stabilised scaling alpha / sqrt(r)")
    dora: bool = Field(False, description="weight-decomposed LoRA (DoRA)")


@register
class LoRA(Method):
    name = "lora"
    Options = LoraOptions
    saves_full_model = False
    can_merge = True

    def apply(self, model: TaskModel, spec: BackboneSpec) -> None:
        from peft import LoraConfig, get_peft_model

        o: LoraOptions = self.options  # type: ignore[assignment]
        config = LoraConfig(
            r=o.r,
            lora_alpha=o.alpha,
            lora_dropout=o.dropout,
            bias="none",
            target_modules=list(o.target_modules or spec.lora_targets),
            use_rslora=o.rslora,
            use_dora=o.dora,
            base_model_name_or_path=spec.path or spec.name,
        )
        for p in model.backbone.parameters():
            p.requires_grad_(False)
        model.backbone = get_peft_model(model.backbone, config)
        for p in model.head.parameters():
            p.requires_grad_(True)

    def save(self, model: TaskModel, out: Path) -> None:
        model.backbone.save_pretrained(str(out))
        (out / "README.md").unlink(missing_ok=True)  # peft's empty model card
        save_file(
            {k: v.contiguous() for k, v in model.head.state_dict().items()}, str(out / "head.safetensors")
        )

    def load(self, model: TaskModel, out: Path) -> None:
        from peft import set_peft_model_state_dict

        adapter = load_file(str(out / "adapter_model.safetensors"))
        result = set_peft_model_state_dict(model.backbone, adapter)
        missing = [k for k in getattr(result, "unexpected_keys", [])]
        if missing:
            raise RuntimeError(f"adapter weights do not fit the model: {missing[:5]}")
        model.head.load_state_dict(load_file(str(out / "head.safetensors")))
