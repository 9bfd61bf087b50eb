"""AdaLoRA through peft: LoRA in SVD form (P diag(E) Q) whose rank budget is re-allocated during
training by the importance of each singular triplet. The allocator runs inside tuneforge's loop after
every optimizer step (``after_step``); the orthogonality penalty on P and Q enters the loss
(``regularization``); its running importance averages are part of the resumable checkpoint."""

from __future__ import annotations

from typing import Any

import torch
from pydantic import Field

from ..models.backbones import BackboneSpec
from ..models.heads import TaskModel
from .base import LAYERS_HELP, MethodOptions, register
from .peft_base import PeftMethod


class AdaLoraOptions(MethodOptions):
    init_r: int = Field(12, ge=1, description="starting rank of every adapted matrix")
    target_r: int = Field(8, ge=1, description="average rank left when the budget schedule ends")
    alpha: float = Field(32.0, gt=0, description="scaling numerator")
    dropout: float = Field(0.05, ge=0.0, lt=1.0)
    target_modules: list[str] | None = Field(None, description="module names; default: the backbone's own")
    warmup_share: float = Field(0.1, ge=0.0, lt=1.0, description="share of steps before pruning starts")
    final_share: float = Field(0.2, ge=0.0, lt=1.0, description="share of steps at the final budget")
    interval: int = Field(10, ge=1, description="steps between two budget allocations")
    beta1: float = Field(0.85, gt=0.0, lt=1.0, description="EMA factor of the importance")
    beta2: float = Field(0.85, gt=0.0, lt=1.0, description="EMA factor of the uncertainty")
    orth_reg_weight: float = Field(0.5, ge=0.0, description="weight of the orthogonality penalty")
    total_steps: int | None = Field(None, ge=1, description="set by tuneforge from the run length")
    layers: list[int] | None = Field(None, description=LAYERS_HELP)


@register
class AdaLoRA(PeftMethod):
    name = "adalora"
    summary = "LoRA whose rank budget moves during training to the matrices that matter most"
    Options = AdaLoraOptions
    can_merge = True

    def default_lr(self) -> float:
        return 1e-3

    def saved_total_steps(self) -> int | None:
        return self.options.total_steps  # type: ignore[attr-defined]

    def peft_config(self, backbone: Any, spec: BackboneSpec, total_steps: int | None) -> Any:
        from peft import AdaLoraConfig

        o: AdaLoraOptions = self.options  # type: ignore[assignment]
        total = total_steps or o.total_steps or 1000
        o.total_steps = total
        tinit, tfinal = int(o.warmup_share * total), int(o.final_share * total)
        if tinit >= total - tfinal:
            tinit, tfinal = 0, 0
        return AdaLoraConfig(
            init_r=o.init_r,
            target_r=o.target_r,
            lora_alpha=o.alpha,
            lora_dropout=o.dropout,
            target_modules=list(o.target_modules or spec.lora_targets),
            tinit=tinit,
            tfinal=tfinal,
            deltaT=o.interval,
            beta1=o.beta1,
            beta2=o.beta2,
            orth_reg_weight=o.orth_reg_weight,
            total_step=total,
        )

    def _adalora(self, model: TaskModel) -> Any:
        return model.backbone.base_model

    def regularization(self, model: TaskModel) -> torch.Tensor | None:
        """Mean over the adapted matrices of ||P P^T - I||_F (and Q^T Q for the other factor)."""
        weight = self.options.orth_reg_weight  # type: ignore[attr-defined]
        if not weight:
            return None
        terms = []
        for name, p in model.backbone.named_parameters():
            if not p.requires_grad or not ("lora_A" in name or "lora_B" in name):
                continue
            gram = p @ p.T if "lora_A" in name else p.T @ p
            eye = torch.eye(gram.shape[0], device=gram.device, dtype=gram.dtype)
            terms.append(torch.linalg.matrix_norm(gram - eye))
        return weight * torch.stack(terms).mean() if terms else None

    def after_step(self, model: TaskModel, step: int) -> None:
        self._adalora(model).update_and_allocate(step)

    def finalize(self, model: TaskModel) -> None:
        """Apply the final rank pattern, so the saved (resized) adapter equals the trained one."""
        inner = self._adalora(model)
        pattern = inner.peft_config[inner.trainable_adapter_name].rank_pattern
        if pattern:
            inner.rankallocator.mask_using_rank_pattern(inner.model, pattern)

    def ranks(self, model: TaskModel) -> dict[str, int]:
        """Current rank of every adapted matrix (after the allocator's masking)."""
        inner = self._adalora(model)
        pattern = inner.peft_config[inner.trainable_adapter_name].rank_pattern
        if pattern:
            return {k: int(sum(v)) for k, v in pattern.items()}
        return {n: int((p != 0).sum()) for n, p in model.backbone.named_parameters() if "lora_E" in n}

    def loop_state(self, model: TaskModel) -> dict[str, Any]:
        inner = self._adalora(model)
        alloc = inner.rankallocator
        return {
            "ipt": dict(alloc.ipt),
            "exp_avg_ipt": dict(alloc.exp_avg_ipt),
            "exp_avg_unc": dict(alloc.exp_avg_unc),
            "rank_pattern": inner.peft_config[inner.trainable_adapter_name].rank_pattern,
        }

    def load_loop_state(self, model: TaskModel, state: dict[str, Any]) -> None:
        inner = self._adalora(model)
        alloc = inner.rankallocator
        alloc.ipt, alloc.exp_avg_ipt, alloc.exp_avg_unc = (
            dict(state["ipt"]),
            dict(state["exp_avg_ipt"]),
            dict(state["exp_avg_unc"]),
        )
        inner.peft_config[inner.trainable_adapter_name].rank_pattern = state["rank_pattern"]
