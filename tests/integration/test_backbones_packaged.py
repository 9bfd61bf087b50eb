"""The packaged backbones that need a conversion: minilm-l3 (ONNX graph -> BertModel, outputs checked
against onnxruntime) and smollm2-135m (4-bit GGUF -> float32 Llama decoder, fine-tuned through the
ordinary pipeline). The registry's conversions go to the user's cache (``TUNEFORGE_CACHE`` or
``~/.cache/tuneforge``): the first run converts (seconds for minilm-l3, about a minute for smollm2),
later runs reuse it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import tuneforge
from tuneforge.data.demo import write_demo
from tuneforge.models import backbones, onnx_convert
from tuneforge.models.backbones import build_backbone, load_tokenizer, resolve_backbone
from tuneforge.models.catalog import describe
from tuneforge.models.heads import SequenceHead, TaskModel

pytestmark = pytest.mark.slow

SENTENCES = [
    "I lost my card yesterday",
    "How do I reset my password?",
    "Paris is the capital of France, and it is known for the Eiffel Tower.",
    "ok",
]


def test_minilm_l3_conversion_matches_the_onnx_model(tmp_path):
    source = backbones._minilm_l3_source()
    out = tmp_path / "minilm-l3"
    out.mkdir()
    onnx_convert.convert(source, out, Path(backbones._minilm_l6_path()))
    diff = onnx_convert.parity(source, out, SENTENCES)
    assert diff["tokens"] < 1e-4 and diff["sentence"] < 1e-4, diff
    config = json.loads((out / "config.json").read_text())
    assert (config["num_hidden_layers"], config["hidden_size"], config["num_attention_heads"]) == (3, 384, 12)


def test_minilm_l3_from_the_registry_pools_like_the_onnx_model():
    import onnxruntime as ort

    spec = resolve_backbone("minilm-l3")  # converted once into the cache
    assert (spec.pooling, spec.normalize, spec.kind) == ("mean", False, "encoder")
    info = describe("minilm-l3")
    assert info["converted"] and info["parameters"] == 17_241_984 and info["layers"] == 3
    tok = load_tokenizer(spec)
    batch = tok(SENTENCES, padding=True, return_tensors="np")
    feeds = {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}
    session = ort.InferenceSession(str(backbones._minilm_l3_source()), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    sentence = [o for o, n in zip(session.run(None, feeds), names, strict=True) if o.shape == (4, 384)][0]
    model = TaskModel(
        build_backbone(spec), SequenceHead(384, 2, spec.pooling, normalize=spec.normalize)
    ).eval()
    ids, mask = (torch.from_numpy(feeds[k]) for k in ("input_ids", "attention_mask"))
    mine = model.features(ids, mask).numpy()
    assert np.abs(mine - sentence).max() < 1e-4


def test_smollm2_is_described_from_the_gguf_header_without_converting(tmp_path, monkeypatch):
    monkeypatch.setenv("TUNEFORGE_CACHE", str(tmp_path))
    info = describe("smollm2-135m")
    assert info["kind"] == "decoder" and info["architecture"] == "llama" and not info["converted"]
    assert (info["parameters"], info["layers"], info["hidden_size"]) == (134_515_008, 30, 576)
    assert info["lora_targets"] == ["q_proj", "k_proj", "v_proj", "o_proj"]
    assert not (tmp_path / "models").exists()


def test_smollm2_converted_copy_holds_the_dequantised_weights():
    from gguf import GGUFReader
    from gguf.quants import dequantize
    from safetensors import safe_open

    spec = resolve_backbone("smollm2-135m")  # converted once into the cache (about a minute)
    folder = Path(spec.path)
    config = json.loads((folder / "config.json").read_text())
    assert "quantization_config" not in config and config["model_type"] == "llama"
    reader = GGUFReader(str(backbones._smollm2_source()))
    quantised = next(t for t in reader.tensors if t.name == "blk.0.ffn_down.weight")
    with safe_open(str(folder / "model.safetensors"), framework="np") as fh:
        mine = fh.get_tensor("model.layers.0.mlp.down_proj.weight")
    assert np.array_equal(mine, dequantize(quantised.data, quantised.tensor_type))
    tok = load_tokenizer(spec)
    assert tok.pad_token is not None and tok.padding_side == "right"


def test_smollm2_fine_tunes_a_tiny_classification_job_with_lora(tmp_path):
    files = write_demo(tmp_path / "data", task="intent", sizes=(240, 12, 12), seed=1)
    recipe = {
        "data": {
            "train": str(files["train"]),
            "validation": str(files["validation"]),
            "test": str(files["test"]),
            "max_train_examples": 16,
            "quality": {"unknown_labels": "fix"},
        },
        "backbone": "smollm2-135m",
        "method": {"name": "lora"},
        "model": {"max_length": 32, "head_init": "random"},  # one step; no probe
        "output": str(tmp_path / "run"),
        "train": {"epochs": 1, "batch_size": 16, "threads": 2},
    }
    run = tuneforge.run(recipe, quiet=True)
    summary = run.read_summary()
    assert summary["backbone"] == "smollm2-135m" and summary["parameters"]["trainable_share"] < 0.01
    assert tuneforge.load(run.path).predict(["I lost my card yesterday"])[0].label
