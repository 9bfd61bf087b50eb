"""(IA)3 through peft: learnt vectors that rescale the keys, the values and the feed-forward
activations. Tiny (one vector per adapted layer) and merges into the weights."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ..models.backbones import BackboneSpec
from . import targets
from .base import LAYERS_HELP, MethodOptions, register
from .peft_base import PeftMethod


class IA3Options(MethodOptions):
    target_modules: list[str] | None = Field(None, description="module names; default: keys, values, FFN out")
    feedforward_modules: list[str] | None = Field(
        None, description="of those, the ones whose input (not output) is scaled; default: FFN out"
    )
    layers: list[int] | None = Field(None, description=LAYERS_HELP)


@register
class IA3(PeftMethod):
    name = "ia3"
    summary = "rescale keys, values and feed-forward activations by learnt vectors; merges"
    Options = IA3Options
    can_merge = True

    def default_lr(self) -> float:
        return 5e-3

    def peft_config(self, backbone: Any, spec: BackboneSpec, total_steps: int | None) -> Any:
        from peft import IA3Config

        o: IA3Options = self.options  # type: ignore[assignment]
        if o.target_modules:
            target: Any = list(o.target_modules)
            ff: Any = list(o.feedforward_modules or [])
        else:
            ffn = targets.find(backbone, "ffn_out", self.name)
            names = (
                targets.find(backbone, "key", self.name) + targets.find(backbone, "value", self.name) + ffn
            )
            target, ff = targets.as_regex(names), targets.as_regex(ffn)
        return IA3Config(target_modules=target, feedforward_modules=ff)
