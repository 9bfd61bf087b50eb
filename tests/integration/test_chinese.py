"""Chinese through a local model folder: a tiny random BERT with a Chinese character vocabulary,
saved the way a user's own model would be; NER entity offsets are character offsets."""

from __future__ import annotations

import random

import pytest

import tuneforge

NAMES = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊"]
CITIES = ["北京", "上海", "广州", "深圳", "杭州", "成都"]
ORGS = ["华信公司", "长江银行", "东方大学", "新星科技"]
TEMPLATES = [
    "{PER}在{LOC}工作。",
    "{PER}毕业于{ORG}。",
    "{ORG}总部位于{LOC}。",
    "{PER}来自{LOC}，现任职于{ORG}。",
]


def _sentences(n: int, seed: int) -> list[list[tuple[str, str]]]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        template = rng.choice(TEMPLATES)
        tokens: list[tuple[str, str]] = []
        i = 0
        while i < len(template):
            if template[i] == "{":
                j = template.index("}", i)
                kind = template[i + 1 : j]
                word = rng.choice({"PER": NAMES, "LOC": CITIES, "ORG": ORGS}[kind])
                tokens += [(ch, ("B-" if k == 0 else "I-") + kind) for k, ch in enumerate(word)]
                i = j + 1
            else:
                tokens.append((template[i], "O"))
                i += 1
        out.append(tokens)
    return out


def _write_bmes(path, sentences):
    lines = []
    for sent in sentences:
        tags = []
        for k, (_, tag) in enumerate(sent):
            nxt = sent[k + 1][1] if k + 1 < len(sent) else "O"
            if tag == "O":
                tags.append("O")
            elif tag.startswith("B-"):
                tags.append(("B-" if nxt == "I-" + tag[2:] else "S-") + tag[2:])
            else:
                tags.append(("M-" if nxt == tag else "E-") + tag[2:])
        lines.append(" ".join(ch for ch, _ in sent) + "\t" + " ".join(tags))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def chinese_model(tmp_path_factory):
    from transformers import BertConfig, BertModel, BertTokenizerFast

    folder = tmp_path_factory.mktemp("zh-bert")
    chars = sorted(
        {ch for group in (NAMES, CITIES, ORGS, TEMPLATES) for w in group for ch in w if ch not in "{}"}
    )
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tokenizer = BertTokenizerFast(vocab=str(folder / "vocab.txt"), tokenize_chinese_chars=True)
    tokenizer.save_pretrained(folder)
    # every character of the data is in the vocabulary: no [UNK] (transformers 5 reads vocab=, not vocab_file=)
    ids = tokenizer("王芳在杭州工作。", add_special_tokens=False)["input_ids"]
    assert len(ids) == 8 and tokenizer.unk_token_id not in ids
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
    )
    import torch

    torch.manual_seed(0)
    BertModel(config).save_pretrained(folder)
    return folder


def test_chinese_ner_with_a_local_model_folder(chinese_model, tmp_path):
    for split, n, seed in [("train", 120, 0), ("dev", 30, 1), ("test", 30, 2)]:
        _write_bmes(tmp_path / f"{split}.char.bmes", _sentences(n, seed))
    recipe = {
        "task": "ner",
        "data": {
            "train": str(tmp_path / "train.char.bmes"),
            "validation": str(tmp_path / "dev.char.bmes"),
            "test": str(tmp_path / "test.char.bmes"),
            # the templated sentences repeat within and across splits; this test is about the model
            # folder and the character vocabulary, so the data-quality gate stays out of it
            "quality": {"enabled": False},
        },
        "backbone": str(chinese_model),
        "output": str(tmp_path / "run"),
        "track": ["jsonl"],
        "train": {"epochs": 8, "batch_size": 8, "lr": 3e-3, "threads": 1, "early_stopping": {"patience": 0}},
    }
    run = tuneforge.run(recipe, quiet=True)
    f1 = run.read_summary()["metrics"]["test"]["f1"]
    assert f1 > 0.5, f1  # a 2-layer random model learns this templated data
    (pred,) = tuneforge.load(run.path).predict(["王芳在杭州工作。"])
    assert pred.tags is not None and len(pred.tags) == 8  # one tag per character
    for ent in pred.entities:
        assert "王芳在杭州工作。"[ent.start : ent.end] == ent.text
    assert {(e.type, e.text) for e in pred.entities} <= {
        ("PER", "王芳"),
        ("LOC", "杭州"),
        ("PER", "王"),
        ("LOC", "杭"),
        ("PER", "芳"),
        ("LOC", "州"),
    }
