"""The backbone registry's local folders (an encoder with a Chinese vocabulary, a decoder), hub ids
offline and (simulated) online, and the errors; tiny models only, no network."""

from __future__ import annotations

import time

import pytest
import torch

import tuneforge
from tuneforge.errors import ConfigError
from tuneforge.models import hub
from tuneforge.models.backbones import build_backbone, load_tokenizer, resolve_backbone
from tuneforge.models.catalog import describe
from tuneforge.models.heads import SequenceHead, TaskModel

KNOWN = "known names are minilm-l6, minilm-l3, smollm2-135m, tiny-random"
CHARS = list("我在北京工作他来自上海的公司银行卡丢了怎么办你好谢谢，。")


def _chinese_bert(folder):
    """A tiny random BERT with a Chinese character vocabulary and a model card, as a user might save one."""
    from transformers import BertConfig, BertModel, BertTokenizerFast

    folder.mkdir()
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *CHARS]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    BertTokenizerFast(vocab=str(folder / "vocab.txt"), tokenize_chinese_chars=True).save_pretrained(folder)
    config = BertConfig(
        vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
        max_position_embeddings=128,
    )  # fmt: skip
    BertModel(config, add_pooling_layer=False).save_pretrained(folder)
    (folder / "README.md").write_text("---\nlanguage: zh\nlicense: mit\n---\n# tiny\n", encoding="utf-8")
    return folder


def _tiny_decoder(folder):
    """A tiny random Llama with a word-level tokenizer that, like most decoders, has no pad token."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaModel, PreTrainedTokenizerFast

    words = ["<unk>", "</s>", "where", "is", "my", "card", "hello", "there", "lost", "a", "the"]
    inner = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    inner.pre_tokenizer = pre_tokenizers.Whitespace()
    PreTrainedTokenizerFast(tokenizer_object=inner, unk_token="<unk>", eos_token="</s>").save_pretrained(
        folder
    )
    config = LlamaConfig(
        vocab_size=len(words), hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
        num_key_value_heads=1, max_position_embeddings=64, architectures=["LlamaForCausalLM"],
    )  # fmt: skip
    torch.manual_seed(0)
    LlamaModel(config).save_pretrained(folder)
    return folder


def test_local_chinese_folder_reads_its_card_and_tokenizes_chinese(tmp_path):
    folder = _chinese_bert(tmp_path / "zh-bert")
    info = describe(str(folder))
    assert info["languages"] == ["zh"] and info["license"] == "mit"
    assert info["kind"] == "encoder" and info["architecture"] == "bert"
    assert info["max_length"] == 128 and info["lora_targets"] == ["query", "value"]
    spec = resolve_backbone(str(folder))
    tok = load_tokenizer(spec)
    ids = tok("我在北京工作")["input_ids"]
    assert tok.unk_token_id not in ids and len(ids) == 6 + 2
    assert build_backbone(spec).config.hidden_size == 32


def test_local_decoder_folder_pads_with_its_end_token_and_pools_only_real_tokens(tmp_path):
    spec = resolve_backbone(str(_tiny_decoder(tmp_path / "decoder")))
    assert spec.kind == "decoder" and spec.family == "llama" and spec.lora_targets == ("q_proj", "v_proj")
    tok = load_tokenizer(spec)
    assert tok.pad_token == tok.eos_token == "</s>"
    model = TaskModel(build_backbone(spec), SequenceHead(32, 3, pooling="mean")).eval()
    batch = tok(["where is my card", "hello"], padding=True, return_tensors="pt")
    alone = tok(["hello"], return_tensors="pt")
    with torch.no_grad():
        padded = model.features(batch["input_ids"], batch["attention_mask"])[1]
        single = model.features(alone["input_ids"], alone["attention_mask"])[0]
    torch.testing.assert_close(padded, single, atol=1e-5, rtol=1e-4)  # right padding leaves it unchanged


def test_tiny_decoder_runs_through_the_pipeline_with_lora(tmp_path, demo_data):
    folder = _tiny_decoder(tmp_path / "decoder")
    files = demo_data["classification"]
    recipe = {
        "data": {
            "train": str(files["train"]),
            "validation": str(files["validation"]),
            "test": str(files["test"]),
        },
        "backbone": str(folder),
        "method": {"name": "lora", "r": 4},
        "output": str(tmp_path / "run"),
        "train": {"epochs": 1, "batch_size": 32, "threads": 1},
    }
    run = tuneforge.run(recipe, quiet=True)
    assert 0.0 <= run.read_summary()["metrics"]["test"]["accuracy"] <= 1.0
    assert tuneforge.load(run.path).predict(["where is my card"])[0].label


def test_folder_errors_say_what_to_do(tmp_path):
    from transformers import T5Config

    with pytest.raises(ConfigError, match="does not exist.*" + KNOWN.split(" are ")[1]):
        resolve_backbone(str(tmp_path / "missing" / "model"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="has no config.json"):
        resolve_backbone(str(tmp_path / "empty"))
    T5Config(d_model=8, num_layers=1, num_heads=1, d_kv=8, d_ff=8).save_pretrained(tmp_path / "t5")
    with pytest.raises(ConfigError, match="encoder-decoder"):
        resolve_backbone(str(tmp_path / "t5"))
    with pytest.raises(ConfigError, match=f"unknown backbone 'not a name!': {KNOWN}"):
        resolve_backbone("not a name!")


def test_offline_hub_id_fails_fast_with_the_known_names(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # conftest sets it too: tests never touch the network
    start = time.perf_counter()
    with pytest.raises(ConfigError) as err:
        resolve_backbone("bert-base-chinese")
    assert time.perf_counter() - start < 2.0
    message = str(err.value)
    assert "HF_HUB_OFFLINE=1" in message and KNOWN in message and "local Hugging Face model folder" in message
    with pytest.raises(ConfigError, match="Did you mean 'minilm-l6'"):
        describe("minilm-l7")


def test_hub_id_when_the_hub_cannot_be_reached(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setattr(hub, "cached_snapshot", lambda repo_id: None)
    monkeypatch.setattr(hub, "reachable", lambda timeout=hub.CONNECT_TIMEOUT_S: False)
    with pytest.raises(ConfigError, match=f"cannot be reached: {KNOWN}"):
        resolve_backbone("org/some-model")


def test_hub_id_from_the_cache_or_downloaded(monkeypatch, tmp_path):
    folder = _chinese_bert(tmp_path / "snapshot")
    monkeypatch.setattr(hub, "cached_snapshot", lambda repo_id: str(folder))
    spec = resolve_backbone("org/zh-bert")  # in the local cache: used offline
    assert spec.name == "org/zh-bert" and spec.path == str(folder) and spec.languages == ("zh",)

    calls = []

    def fake_download(repo_id, **kwargs):
        calls.append((repo_id, kwargs))
        return str(folder)

    import huggingface_hub

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setattr(hub, "cached_snapshot", lambda repo_id: None)
    monkeypatch.setattr(hub, "reachable", lambda timeout=hub.CONNECT_TIMEOUT_S: True)
    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_download)
    assert resolve_backbone("org/zh-bert").path == str(folder)
    assert calls[0][0] == "org/zh-bert" and "*.safetensors" in calls[0][1]["allow_patterns"]


@pytest.mark.parametrize("name", ["bert-base-cased", "org/name", "org/name.v2", "gpt2"])
def test_hub_id_syntax(name):
    assert hub.looks_like_hub_id(name)


@pytest.mark.parametrize("name", ["a b", "org/name/extra", "x/..", "", "bad!"])
def test_not_hub_ids(name):
    assert not hub.looks_like_hub_id(name)
