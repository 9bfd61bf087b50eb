"""The method contract: a method decides which parameters train and how the result is saved.

A plug-in is one module that defines a ``Method`` subclass and calls ``register``; the conformance
tests pick it up from ``METHODS``."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from ..errors import ConfigError, did_you_mean
from ..models.backbones import BackboneSpec
from ..models.heads import TaskModel


class MethodOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Method:
    """Base class. ``apply`` changes a freshly built model in place (freeze, wrap, inject)."""

    name: ClassVar[str] = "base"
    Options: ClassVar[type[MethodOptions]] = MethodOptions
    saves_full_model: ClassVar[bool] = True
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

    def apply(self, model: TaskModel, spec: BackboneSpec) -> None:
        raise NotImplementedError  # every registered method overrides it; conformance tests check

    def save(self, model: TaskModel, out: Path) -> None:
        from safetensors.torch import save_model

        save_model(model, str(out / "model.safetensors"))

    def load(self, model: TaskModel, out: Path) -> None:
        """Give ``model`` (built from the base backbone, method already applied) the saved weights."""
        from safetensors.torch import load_model

        load_model(model, str(out / "model.safetensors"))

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, **self.options.model_dump()}


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
