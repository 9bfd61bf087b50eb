"""`tuneforge data augment`: originals then copies (or only the copies), the summary line, clear errors."""

from __future__ import annotations

import json
import sys

import pytest
from typer.testing import CliRunner

from tuneforge.cli import app, main
from tuneforge.data.readers import read_examples

CSV = "text,label\nwhere is my new card,card_arrival\nI was charged twice for one payment,charge\n我的银行卡还没有到,card\n"
CONLL = "John B-PER\nSmith I-PER\nlives O\nin O\nthe O\nold O\ntown O\nof O\nParis B-LOC\n\nMary B-PER\nworks O\nin O\nBerlin B-LOC\n"


def invoke(*args: object):
    result = CliRunner().invoke(app, ["data", "augment", *map(str, args)])
    assert result.exit_code == 0, result.output
    return result


def test_writes_originals_then_copies_with_a_summary(tmp_path):
    src, dst = tmp_path / "train.csv", tmp_path / "aug.csv"
    src.write_text(CSV, encoding="utf-8")
    result = invoke(src, "--out", dst, "--ops", "swap,delete,typo", "--copies", "2", "--seed", "1")
    rows = read_examples(dst, task="classification")
    originals = read_examples(src, task="classification")
    assert [r.text for r in rows[:3]] == [r.text for r in originals]
    assert len(rows) > 3 and {r.label for r in rows[3:]} <= {"card_arrival", "charge", "card"}
    line = result.output.strip()
    assert line.startswith("3 rows in, ") and f"wrote {len(rows)} rows to" in line and "\n" not in line
    assert "swap " in line and "delete " in line and "typo " in line


def test_only_new_and_same_seed_same_file(tmp_path):
    src = tmp_path / "train.csv"
    src.write_text(CSV, encoding="utf-8")
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    for out in (a, b):
        invoke(src, "--out", out, "--ops", "swap", "--only-new", "--seed", "3")
    assert a.read_text(encoding="utf-8") == b.read_text(encoding="utf-8")
    texts = [json.loads(line)["text"] for line in a.read_text(encoding="utf-8").splitlines()]
    assert texts and not set(texts) & {"where is my new card", "我的银行卡还没有到"}


def test_ner_with_mention_and_synonyms_from_the_tiny_backbone(tmp_path):
    src, dst = tmp_path / "train.conll", tmp_path / "aug.conll"
    src.write_text(CONLL, encoding="utf-8")
    invoke(src, "--task", "ner", "--out", dst, "--ops", "mention,synonym,insert", "--copies", "3",
           "--backbone", "tiny-random", "--only-new")  # fmt: skip
    rows = read_examples(dst, task="ner")
    assert rows and all(len(r.tokens) == len(r.tags) for r in rows)
    assert all(r.tags.count("B-PER") == 1 for r in rows)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--ops", "swap,mention"], "needs task ner"),
        (["--ops", "shuffle"], "unknown augmentation operation"),
        (["--copies", "0"], "--copies"),
        (["--task", "ner"], "format 'csv' cannot hold ner data"),
    ],
)
def test_bad_input_is_a_short_error_with_exit_code_2(tmp_path, monkeypatch, capsys, args, message):
    src = tmp_path / "train.csv"
    src.write_text(CSV, encoding="utf-8")
    argv = ["tuneforge", "data", "augment", str(src), "--out", str(tmp_path / "o.csv"), *args]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    stderr = capsys.readouterr().err
    assert message in stderr and "Traceback" not in stderr
    assert not (tmp_path / "o.csv").exists()
