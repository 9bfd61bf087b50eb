"""Every registered method, on every task, on the tiny random backbone: it trains (loss goes down),
saves, reloads to identical predictions, and merges (where it can) to identical predictions."""

import pytest
import torch

from tuneforge.errors import ConfigError
from tuneforge.export.bundle import build_model, load_bundle, save_bundle
from tuneforge.methods import METHODS, count_parameters, get_method
from tuneforge.models.backbones import load_tokenizer, resolve_backbone
from tuneforge.models.tasks import get_task
from tuneforge.types import Example

EXAMPLES = {
    "classification": [
        Example(t, lab)
        for t, lab in [
            ("my card is lost", "card"),
            ("lost my card again", "card"),
            ("hello there", "greet"),
            ("hi hello", "greet"),
        ]
        * 4
    ],
    "multilabel": [
        Example(t, lab)
        for t, lab in [
            ("refund late parcel", ("refund", "delivery")),
            ("parcel late", ("delivery",)),
            ("refund please", ("refund",)),
        ]
        * 4
    ],
    "ner": [
        Example(
            "Anna went to Paris", tokens=("Anna", "went", "to", "Paris"), tags=("B-PER", "O", "O", "B-LOC")
        ),
        Example("Paris likes Anna", tokens=("Paris", "likes", "Anna"), tags=("B-LOC", "O", "B-PER")),
    ]
    * 6,
}


@pytest.mark.parametrize("task_name", sorted(EXAMPLES))
@pytest.mark.parametrize("method_name", sorted(METHODS))
def test_method_trains_saves_and_reloads(task_name, method_name, tmp_path):
    torch.manual_seed(0)
    spec = resolve_backbone("tiny-random")
    tok = load_tokenizer(spec)
    task = get_task(task_name)
    exs = EXAMPLES[task_name]
    labels = task.label_list(exs)
    feats = task.encode(exs, tok, {lab: i for i, lab in enumerate(labels)}, 32)
    model = build_model(task, spec, len(labels), "mean", 0.0)
    method = get_method(method_name)
    method.apply(model, spec, total_steps=25)
    params = count_parameters(model)
    assert 0 < params["trainable"] <= params["total"]
    head_params = sum(p.numel() for p in model.head.parameters())
    assert all(p.requires_grad for p in model.head.parameters()), "the head always trains"
    assert params["trainable"] >= head_params
    batch = task.collate(feats, tok.pad_token_id)
    head = [p for p in model.head.parameters()]
    rest = [p for p in model.backbone.parameters() if p.requires_grad]
    opt = torch.optim.AdamW([{"params": head, "lr": 5e-3}, {"params": rest, "lr": method.default_lr()}])
    before_training = {n: p.detach().clone() for n, p in model.backbone.named_parameters() if p.requires_grad}
    losses = []
    for step in range(1, 26):
        loss = task.loss(model(**batch), batch)
        reg = method.regularization(model)
        (loss + reg if reg is not None else loss).backward()
        opt.step()
        method.after_step(model, step)
        opt.zero_grad()
        losses.append(loss.item())
    method.finalize(model)
    assert losses[-1] < losses[0] * 0.8, losses
    moved = [
        n
        for n, p in model.backbone.named_parameters()
        if p.requires_grad and not torch.equal(p, before_training[n])
    ]
    assert moved, "the method's own parameters must train, not just the head"

    model.eval()
    with torch.no_grad():
        before = model(**batch)
    meta = {
        "task": task_name,
        "labels": labels,
        "backbone": "tiny-random",
        "backbone_path": None,
        "pooling": "mean",
        "dropout": 0.0,
        "max_length": 32,
        "method": method.describe(),
    }
    save_bundle(tmp_path / "model", model, tok, meta)
    loaded, *_ = load_bundle(tmp_path / "model")
    with torch.no_grad():
        after = loaded(**batch)
    torch.testing.assert_close(after, before)

    if not method.can_merge:
        with pytest.raises(ConfigError, match="cannot be folded"):
            method.merge(model)
        return
    merged = method.merge(model)
    assert not any("lora" in n or "ia3" in n for n, _ in merged.named_parameters())
    with torch.no_grad():
        torch.testing.assert_close(merged(**batch), before, atol=1e-5, rtol=1e-4)
    save_bundle(tmp_path / "merged", merged, tok, {**meta, "method": {"name": "full"}})
    reloaded, *_ = load_bundle(tmp_path / "merged")
    with torch.no_grad():
        torch.testing.assert_close(reloaded(**batch), before, atol=1e-5, rtol=1e-4)
