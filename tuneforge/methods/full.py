"""Full fine-tuning: every parameter of the backbone and the head trains."""

from __future__ import annotations

from ..models.backbones import BackboneSpec
from ..models.heads import TaskModel
from .base import Method, register


@register
class FullFineTuning(Method):
    name = "full"

    def apply(self, model: TaskModel, spec: BackboneSpec) -> None:
        for p in model.parameters():
            p.requires_grad_(True)
