"""Run folders load with plain transformers (full fine-tuning) and peft (adapters)."""

from __future__ import annotations

import pytest
import torch

import tuneforge
from tests.conftest import tiny_recipe


@pytest.fixture(scope="module")
def full_run(demo_data, tmp_path_factory):
    return tuneforge.run(
        tiny_recipe(demo_data, "classification", tmp_path_factory.mktemp("r") / "run", epochs=1), quiet=True
    ).path


@pytest.fixture(scope="module")
def ner_run(demo_data, tmp_path_factory):
    recipe = tiny_recipe(demo_data, "ner", tmp_path_factory.mktemp("r") / "run", epochs=1)
    return tuneforge.run(recipe, quiet=True).path


def _ours(run, texts):
    model = tuneforge.load(run)
    return model, model.predict_proba(texts)


def test_full_model_loads_with_automodel_for_sequence_classification(full_run):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    texts = ["where is my card", "cancel my subscription now"]
    ours, probs = _ours(full_run, texts)
    hf = AutoModelForSequenceClassification.from_pretrained(full_run / "model", trust_remote_code=True).eval()
    tok = AutoTokenizer.from_pretrained(full_run / "model")
    with torch.no_grad():
        logits = hf(**tok(texts, return_tensors="pt", padding=True)).logits
    torch.testing.assert_close(
        logits.softmax(-1), torch.tensor(probs, dtype=torch.float), atol=1e-5, rtol=1e-4
    )
    assert hf.config.id2label[0] == ours.labels[0]


def test_full_ner_model_loads_with_automodel_for_token_classification(ner_run):
    from transformers import AutoModelForTokenClassification

    hf = AutoModelForTokenClassification.from_pretrained(ner_run / "model", trust_remote_code=True).eval()
    ids = torch.tensor([[101, 2000, 3000, 102]])
    assert hf(input_ids=ids).logits.shape == (1, 4, len(hf.config.id2label))


def test_lora_run_is_a_peft_adapter_on_the_base(demo_data, tmp_path):
    from peft import PeftModel
    from safetensors.torch import load_file

    recipe = tiny_recipe(demo_data, "classification", tmp_path / "run", epochs=1)
    recipe["method"] = {"name": "lora", "r": 4}
    run = tuneforge.run(recipe, quiet=True).path
    assert (run / "model" / "adapter_config.json").is_file()
    assert not (run / "model" / "model.safetensors").exists(), "adapters do not store the base weights"
    from tuneforge.models.backbones import build_backbone, resolve_backbone

    base = build_backbone(resolve_backbone("tiny-random"))
    peft_model = PeftModel.from_pretrained(base, run / "model").eval()
    head = load_file(str(run / "model" / "head.safetensors"))
    ours = tuneforge.load(run)
    texts = ["where is my card"]
    tok = ours.tokenizer(texts, return_tensors="pt")
    with torch.no_grad():
        hidden = torch.nn.functional.normalize(peft_model(**tok).last_hidden_state.mean(1), dim=-1)
    probs = (hidden @ head["out.weight"].T + head["out.bias"]).softmax(-1)
    torch.testing.assert_close(
        probs, torch.tensor(ours.predict_proba(texts), dtype=torch.float), atol=1e-5, rtol=1e-4
    )
