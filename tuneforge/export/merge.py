"""``merge_run``: fold a method's weights into the backbone and save a plain full model folder
(Hugging Face format, no peft needed), checked against the unmerged model before it is written."""

from __future__ import annotations

from pathlib import Path

import torch

from ..errors import RunError
from .bundle import load_bundle, save_bundle

MAX_LOGIT_DIFF = 1e-3


def parity_batch(vocab_size: int, n: int = 16, length: int = 24, seed: int = 0) -> dict[str, torch.Tensor]:
    """Random token sequences of varied length (with padding): a data-free check of two models."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(1000, vocab_size, (n, length), generator=g)
    lengths = torch.randint(4, length + 1, (n,), generator=g)
    mask = (torch.arange(length)[None, :] < lengths[:, None]).long()
    return {"input_ids": ids * mask, "attention_mask": mask}


def merge_run(model_dir: Path, out: Path) -> dict[str, float]:
    """Write the merged model to ``out``; returns the parity figures. Nothing is written on failure."""
    from ..methods import get_method

    model, _, tokenizer, meta = load_bundle(model_dir)
    method = get_method(meta["method"]["name"], {k: v for k, v in meta["method"].items() if k != "name"})
    merged = method.merge(model)
    batch = parity_batch(len(tokenizer))
    with torch.no_grad():
        before, after = model(**batch), merged(**batch)
    diff = float((before - after).abs().max())
    if diff > MAX_LOGIT_DIFF:
        raise RunError(
            f"the merged model differs from the adapter model by {diff:.2e} in the logits; not saved"
        )
    merged_meta = {
        **meta,
        "method": {"name": "full"},
        "merged_from": meta["method"],
        "merge_max_logit_diff": diff,
    }
    save_bundle(out, merged, tokenizer, merged_meta)
    return {"max_logit_diff": diff}
