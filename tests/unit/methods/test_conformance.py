"""Every registered method, on every task, on the tiny random backbone: it trains (loss goes down),
saves, and reloads to identical predictions."""

import pytest
import torch

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
    method.apply(model, spec)
    params = count_parameters(model)
    assert 0 < params["trainable"] <= params["total"]
    head_params = sum(p.numel() for p in model.head.parameters())
    assert all(p.requires_grad for p in model.head.parameters()), "the head always trains"
    assert params["trainable"] >= head_params
    batch = task.collate(feats, tok.pad_token_id)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=5e-3)
    losses = []
    for _ in range(25):
        loss = task.loss(model(**batch), batch)
        loss.backward()
        opt.step()
        opt.zero_grad()
        losses.append(loss.item())
    assert losses[-1] < losses[0] * 0.8, losses

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
