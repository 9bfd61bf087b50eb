"""The method contract: a method decides which parameters train, what it adds to the model, how the
result is saved and loaded back onto the base model, and whether it folds into the weights.

A plug-in is one module that defines a ``Method`` subclass and calls ``register``; the conformance
tests pick it up from ``METHODS``. The training loop calls the hooks (``regularization``,
``after_step``, ``finalize``) for every method, so it has no method branches."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

import torch
from pydantic import BaseModel, ConfigDict, ValidationError
from safetensors.torch import load_file, save_file
from torch import nn

from ..errors import ConfigError, RunError, did_you_mean
from ..models.backbones import BackboneSpec
from ..models.heads import TaskModel
from ..models.prefix_cache import LayerCut, base_model

ADAPTER_FILE = "adapter.safetensors"
LAYERS_HELP = (
    "transformer layers the method adapts (0 = the lowest); default: all. The embeddings and the layers "
    "below the lowest one stay frozen and run in inference mode, so training caches their outputs"
)
HEAD_FILE = "head.safetensors"


class MethodOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Method(ABC):
    """Base class. ``apply`` changes a freshly built model in place (freeze, wrap, inject)."""

    name: ClassVar[str] = "base"
    summary: ClassVar[str] = ""
    Options: ClassVar[type[MethodOptions]] = MethodOptions
    saves_full_model: ClassVar[bool] = False
    can_merge: ClassVar[bool] = False

    def __init__(self, **options: Any) -> None:
        try:
            self.options = self.Options(**options)
        except ValidationError as err:
            msgs = []
            for e in err.errors():
                key = str(e["loc"][-1]) if e["loc"] else ""
                if e["type"] == "extra_forbidden":
                    msgs.append(f"unknown option method.{key}.{did_you_mean(key, self.Options.model_fields)}")
                else:
                    msgs.append(f"method.{key}: {e['msg']} (got {e.get('input')!r})")
            raise ConfigError(f"method {self.name!r}: " + "; ".join(msgs)) from None

    # -- building ---------------------------------------------------------------------------------
    @abstractmethod
    def apply(self, model: TaskModel, spec: BackboneSpec, *, total_steps: int | None = None) -> None:
        """Freeze / wrap / inject for training. ``total_steps`` is the length of the run."""

    def restore(self, model: TaskModel, spec: BackboneSpec, folder: Path) -> None:
        """Turn a freshly built base model into the saved one (method structure + saved weights)."""
        self.apply(model, spec, total_steps=self.saved_total_steps())
        self.load(model, folder)

    def saved_total_steps(self) -> int | None:
        return None

    def default_lr(self) -> float:
        """The method's own learning rate for sequence classification."""
        return 5e-5

    def default_lr_for(self, task: str) -> float:
        """The learning rate a run of ``task`` uses when the recipe does not set ``train.lr``: the
        method's own, times the task's ``lr_scale``."""
        from ..models.tasks import TASKS

        return self.default_lr() * getattr(TASKS.get(task), "lr_scale", 1.0)

    def extra_positions(self) -> int:
        """Input positions the method itself takes (virtual tokens), out of the backbone's maximum."""
        return 0

    # -- saving -----------------------------------------------------------------------------------
    def save(self, model: TaskModel, out: Path) -> None:
        """Default for methods that train a subset of the backbone: only that subset + the head."""
        backbone = {
            n: p.detach().contiguous() for n, p in model.backbone.named_parameters() if p.requires_grad
        }
        save_file(backbone, str(out / ADAPTER_FILE))
        save_head(model, out)

    def load(self, model: TaskModel, out: Path) -> None:
        saved = load_file(str(out / ADAPTER_FILE))
        params = dict(model.backbone.named_parameters())
        expected = {n for n, p in params.items() if p.requires_grad}
        if set(saved) != expected:
            extra, missing = sorted(set(saved) - expected), sorted(expected - set(saved))
            raise RunError(
                f"{out / ADAPTER_FILE} does not fit method {self.name!r} on this backbone "
                f"(unexpected: {extra[:3]}, missing: {missing[:3]})"
            )
        with torch.no_grad():
            for n, t in saved.items():
                params[n].copy_(t)
        load_head(model, out)

    # -- training hooks ---------------------------------------------------------------------------
    def regularization(self, model: TaskModel) -> torch.Tensor | None:
        """An extra term for the training loss (None: nothing)."""
        return None

    def after_step(self, model: TaskModel, step: int) -> None:
        """Called after every optimizer step, before the gradients are cleared."""
        return None

    def finalize(self, model: TaskModel) -> None:
        """Called once after training (and best-weight restore), before saving."""
        return None

    def loop_state(self, model: TaskModel) -> dict[str, Any]:
        """Method state that a resumed run needs besides the weights (tensors and plain values)."""
        return {}

    def load_loop_state(self, model: TaskModel, state: dict[str, Any]) -> None:
        return None

    def frozen_prefix(self, model: TaskModel) -> int:
        """How many lower layers (with the embeddings) this method leaves untouched and runs in
        inference mode: their outputs can be computed once per example and reused."""
        return 0

    def frozen_cut(self, model: TaskModel) -> LayerCut | None:
        """How far into the first trained layer (``frozen_prefix``) the frozen computation reaches
        (sub-modules that run in inference mode before the first trained parameter), or None."""
        return None

    # -- inference --------------------------------------------------------------------------------
    def merge(self, model: TaskModel) -> TaskModel:
        """A plain model (no method modules) that predicts the same; for methods that can merge."""
        raise ConfigError(
            f"method {self.name!r} adds modules that cannot be folded into the base weights; "
            "the model runs them at inference (merge works for: "
            + ", ".join(sorted(n for n, m in METHODS.items() if m.can_merge))
            + ")"
        )

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, **self.options.model_dump()}


def _inference_mode(module: nn.Module, args: object) -> None:
    module.train(False)


def freeze_prefix(model: TaskModel, n_layers: int, embeddings: bool = True) -> None:
    """Freeze the embeddings (``embeddings``) and the lower ``n_layers`` transformer layers and run
    them in inference mode (no dropout) even while the model trains: their output then depends on the
    input alone, which is what makes it cacheable (``Method.frozen_prefix``)."""
    from . import targets  # targets imports nothing from here; imported late to keep the plug-in order

    backbone = base_model(model.backbone)
    frozen: list[nn.Module] = list(targets.layer_stack(backbone)[:n_layers])
    found = getattr(backbone, "embeddings", None) or getattr(backbone, "embed_tokens", None)
    if embeddings and found is not None:
        frozen.append(found)
    for module in frozen:
        for p in module.parameters():
            p.requires_grad_(False)
        module.register_forward_pre_hook(_inference_mode)


def freeze_cut(model: TaskModel, layer_index: int, cut: LayerCut) -> None:
    """Run the sub-modules of layer ``layer_index`` (the first trained one) that ``cut`` names in
    inference mode (their weights are frozen already): their outputs then depend on the layer's
    input alone."""
    from . import targets

    layer = targets.layer_stack(base_model(model.backbone))[layer_index]
    for path in (*cut.captures, *cut.skipped):
        if path:
            layer.get_submodule(path).register_forward_pre_hook(_inference_mode)


def save_head(model: TaskModel, out: Path) -> None:
    save_file({k: v.contiguous() for k, v in model.head.state_dict().items()}, str(out / HEAD_FILE))


def load_head(model: TaskModel, out: Path) -> None:
    model.head.load_state_dict(load_file(str(out / HEAD_FILE)))


def freeze_backbone(model: TaskModel) -> None:
    for p in model.backbone.parameters():
        p.requires_grad_(False)
    for p in model.head.parameters():
        p.requires_grad_(True)


METHODS: dict[str, type[Method]] = {}


def register(cls: type[Method]) -> type[Method]:
    METHODS[cls.name] = cls
    return cls


def get_method(name: str, options: dict[str, Any] | None = None) -> Method:
    if name not in METHODS:
        raise ConfigError(
            f"unknown method {name!r}.{did_you_mean(name, METHODS)} Known methods: {', '.join(sorted(METHODS))}"
        )
    return METHODS[name](**(options or {}))


def count_parameters(model: TaskModel) -> dict[str, Any]:
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return {"total": total, "trainable": trainable, "trainable_share": trainable / max(total, 1)}
