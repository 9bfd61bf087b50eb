"""Methods that peft implements (LoRA, AdaLoRA, prefix / prompt / P-tuning, (IA)3): one base class
that builds the peft wrapper around the backbone, saves it as a peft adapter (``adapter_config.json``
+ ``adapter_model.safetensors``, loadable with ``peft.PeftModel.from_pretrained`` onto the base model)
beside ``head.safetensors``, and merges where peft can."""

from __future__ import annotations

import copy
import warnings
from abc import abstractmethod
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..models.backbones import BackboneSpec
from ..models.heads import TaskModel
from . import targets
from .base import Method, freeze_backbone, freeze_prefix, load_head, save_head


class PeftMethod(Method):
    @abstractmethod
    def peft_config(self, backbone: Any, spec: BackboneSpec, total_steps: int | None) -> Any:
        """The peft config for this backbone."""

    def apply(self, model: TaskModel, spec: BackboneSpec, *, total_steps: int | None = None) -> None:
        from peft import get_peft_model

        freeze_backbone(model)
        config = self.peft_config(model.backbone, spec, total_steps)
        config.base_model_name_or_path = spec.path or spec.name
        layers = getattr(self.options, "layers", None)
        if layers is not None:  # the targets kept to those layers (the same pattern for every peft method)
            wanted = targets.check_layers(model.backbone, layers, self.name)
            config.target_modules = targets.peft_targets_in(model.backbone, config.target_modules, wanted)
            if getattr(config, "feedforward_modules", None):
                config.feedforward_modules = targets.peft_targets_in(
                    model.backbone, config.feedforward_modules, wanted
                )
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model.backbone = get_peft_model(model.backbone, config)
        except (ValueError, TypeError, KeyError) as err:
            raise ConfigError(f"method {self.name!r} cannot apply to backbone {spec.name!r}: {err}") from None
        model.virtual_tokens = self.extra_positions()
        for p in model.head.parameters():
            p.requires_grad_(True)
        if self.frozen_prefix(model):
            freeze_prefix(model, self.frozen_prefix(model))

    def frozen_prefix(self, model: TaskModel) -> int:
        """With ``method.layers``, the layers below the lowest adapted one are untouched."""
        layers = getattr(self.options, "layers", None)
        return min(layers) if layers else 0

    def save(self, model: TaskModel, out: Path) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.backbone.save_pretrained(str(out))
        (out / "README.md").unlink(missing_ok=True)  # peft's empty model card
        save_head(model, out)

    def restore(self, model: TaskModel, spec: BackboneSpec, folder: Path) -> None:
        from peft import PeftModel

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.backbone = PeftModel.from_pretrained(model.backbone, str(folder))
        model.virtual_tokens = self.extra_positions()
        load_head(model, folder)

    def merge(self, model: TaskModel) -> TaskModel:
        if not self.can_merge:
            return super().merge(model)
        clone = copy.deepcopy(model)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            backbone = clone.backbone.merge_and_unload()
        return TaskModel(backbone, clone.head)
