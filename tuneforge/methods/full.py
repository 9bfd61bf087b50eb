"""Full fine-tuning: every parameter of the backbone and the head trains."""

from __future__ import annotations

from pathlib import Path

from safetensors.torch import load_model, save_model

from ..models.backbones import BackboneSpec
from ..models.heads import TaskModel
from .base import Method, register


@register
class FullFineTuning(Method):
    name = "full"
    summary = "every weight trains; the baseline, and the largest artifact"
    saves_full_model = True
    can_merge = True

    def apply(self, model: TaskModel, spec: BackboneSpec, *, total_steps: int | None = None) -> None:
        for p in model.parameters():
            p.requires_grad_(True)

    def save(self, model: TaskModel, out: Path) -> None:
        save_model(model, str(out / "model.safetensors"))

    def load(self, model: TaskModel, out: Path) -> None:
        load_model(model, str(out / "model.safetensors"))

    def merge(self, model: TaskModel) -> TaskModel:
        return model
