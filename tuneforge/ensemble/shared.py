"""Members' probabilities, with one backbone pass shared by members that leave its lower part unchanged.

What a member leaves unchanged (``unchanged_prefix``; -1: nothing, 0: the embeddings, k: the
embeddings and the lower k layers):

- ``partial`` with ``freeze_layers: k`` (embeddings frozen): k;
- ``adapter``, ``lora``, ``adalora``, ``ia3`` with ``layers: [...]``: the layers below the lowest
  adapted one; without ``layers`` (every layer changed): 0, the embeddings only;
- ``full``, ``bitfit``, ``layernorm`` (they change the embeddings), ``prefix``, ``prompt``,
  ``ptuning`` (they add positions or keys to every layer): nothing.

Members on one backbone are grouped; the group shares the smallest prefix of its members, after
checking that those weights are indeed equal. Per batch the shared part runs once, then each member
runs its own upper layers and head. Once checked, the shared modules are tied (held once in memory,
every member pointing at the first member's), which also makes the next check an identity test."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import torch
from torch import nn

from ..models.bio_decode import word_probabilities
from ..models.inference import autocast, to_device
from ..models.prefix_cache import base_model, only_layers, supports_prefix_cache
from ..train.batching import eval_batches
from ..types import Example

EMBEDDINGS_ONLY = ("lora", "adalora", "ia3")


def unchanged_prefix(meta: dict[str, Any], n_layers: int) -> int:
    method = meta["method"]
    name = method["name"]
    if name == "partial":
        k = method.get("freeze_layers")
        return (n_layers // 2 if k is None else int(k)) if method.get("freeze_embeddings", True) else -1
    if name == "adapter" and method.get("train_layernorm"):
        return -1
    if name == "adapter" or name in EMBEDDINGS_ONLY:
        layers = method.get("layers")
        return min(layers) if layers else 0
    return -1


def _prefix_modules(model: nn.Module, k: int) -> list[nn.Module]:
    base = base_model(model.backbone)
    return [base.embeddings, *list(base.encoder.layer)[:k]]


def _same_weights(a: nn.Module, b: nn.Module) -> bool:
    if a is b:  # already tied
        return True
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[n], sb[n]) for n in sa)


def share_plan(members: Sequence[Any]) -> list[tuple[list[int], int]]:
    """Groups of member indices and the prefix each group shares (-1: each member runs alone; an
    n-gram member, which has no backbone, always does)."""
    from ..predictor import NgramPredictor

    plans: list[tuple[list[int], int]] = []
    keyed: dict[tuple, list[int]] = {}
    for i, m in enumerate(members):
        p = m._require()
        ok = (
            not isinstance(p, NgramPredictor)
            and supports_prefix_cache(p.model.backbone)
            and not p.model.virtual_tokens
        )
        key = (p.meta["backbone"], p.meta["max_length"], p.task.name, str(p.device)) if ok else ("alone", i)
        keyed.setdefault(key, []).append(i)
    for key, idx in keyed.items():
        if key[0] == "alone" or len(idx) == 1:
            plans += [([i], -1) for i in idx]
            continue
        first = members[idx[0]].predictor_.model
        n_layers = len(base_model(first.backbone).encoder.layer)
        k = min(unchanged_prefix(members[i].predictor_.meta, n_layers) for i in idx)
        while k >= 0 and not all(
            _same_weights(a, b)
            for i in idx[1:]
            for a, b in zip(
                _prefix_modules(first, k), _prefix_modules(members[i].predictor_.model, k), strict=True
            )
        ):
            k -= 1
        plans.append((idx, k) if k >= 0 else ([idx[0]], -1))
        if k < 0:
            plans += [([i], -1) for i in idx[1:]]
    return plans


def tie_prefix(models: Sequence[nn.Module], k: int) -> None:
    """Hold the shared embeddings and lower k layers once (the other members point at the first's)."""
    first = base_model(models[0].backbone)
    for model in models[1:]:
        base = base_model(model.backbone)
        base.embeddings = first.embeddings
        for j in range(k):
            base.encoder.layer[j] = first.encoder.layer[j]


@torch.no_grad()
def _group_logits(models: Sequence[nn.Module], batch: dict[str, torch.Tensor], k: int) -> list[torch.Tensor]:
    ids, mask = batch["input_ids"], batch["attention_mask"]
    if k < 0:
        return [m(input_ids=ids, attention_mask=mask) for m in models]
    first = base_model(models[0].backbone)
    with only_layers(first, slice(0, k), passthrough=False):
        lower = first(input_ids=ids, attention_mask=mask).last_hidden_state
    out = []
    for m in models:
        base = base_model(m.backbone)
        with only_layers(base, slice(k, None), passthrough=True):
            hidden = base(inputs_embeds=lower, attention_mask=mask).last_hidden_state
        out.append(m.head(hidden, mask))
    return out


def _encode(predictor: Any, examples: Sequence[Example]) -> list[dict[str, Any]]:
    bare = [replace(ex, label=None, tags=None) for ex in examples]  # inputs only
    return predictor.task.encode(bare, predictor.tokenizer, {}, predictor.meta["max_length"])


def group_probabilities(
    members: Sequence[Any], examples: Sequence[Example], k: int, batch_size: int = 64
) -> list[Any]:
    preds = [m._require() for m in members]
    first = preds[0]
    feats = _encode(first, examples)
    ner = first.task.name == "ner"
    out: list[Any] = [
        [None] * len(examples) if ner else np.zeros((len(examples), len(p.labels))) for p in preds
    ]
    pad = first.tokenizer.pad_token_id or 0
    models = [p.model.eval() for p in preds]
    for idx in eval_batches([len(f["input_ids"]) for f in feats], batch_size):
        batch = to_device(first.task.collate([feats[i] for i in idx], pad), first.device)
        with autocast(first.device, first.bf16):
            logits = _group_logits(models, batch, k)
        for j, (p, lg) in enumerate(zip(preds, logits, strict=True)):
            probs = p.task.probabilities(lg).float().cpu().numpy().astype(np.float64)
            for row, i in enumerate(idx):
                if ner:
                    out[j][i] = word_probabilities(probs[row], feats[i]["word_starts"], p.labels)
                else:
                    out[j][i] = probs[row]
    return out


def member_probabilities(
    members: Sequence[Any], examples: Sequence[Example | str], batch_size: int = 64, share: bool = True
) -> list[Any]:
    """Each member's probabilities (see ``Member.predict_proba``), in the members' order."""
    from ..predictor import NgramPredictor

    exs = members[0]._require()._examples(examples)
    plans = share_plan(members) if share else [([i], -1) for i in range(len(members))]
    out: list[Any] = [None] * len(members)
    for idx, k in plans:
        if isinstance(members[idx[0]]._require(), NgramPredictor):  # no backbone: its own probabilities
            out[idx[0]] = members[idx[0]]._require().predict_proba(exs)
            continue
        if k >= 0 and len(idx) > 1:  # checked equal: hold them once, and the next check is free
            tie_prefix([members[i]._require().model for i in idx], k)
        for i, probs in zip(
            idx, group_probabilities([members[i] for i in idx], exs, k, batch_size), strict=True
        ):
            out[i] = probs
    return out
