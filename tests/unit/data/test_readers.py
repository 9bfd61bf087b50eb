"""Readers on small hand-made files: every format, line numbers, auto-detection, unlabelled input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tuneforge.data.readers import FORMATS, detect_format, read_examples, read_texts
from tuneforge.errors import DataError


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


# ---------------------------------------------------------------------------------------------- CSV / TSV


def test_csv_quotes_commas_newlines_crlf_bom(tmp_path: Path) -> None:
    content = (
        "\ufefftext,category\r\n"
        "plain text,a\r\n"
        '"has, a comma",b\r\n'
        '"spans\r\ntwo lines",a\r\n'
        '"say ""hi""",c\r\n'
        "last,b\r\n"
    )
    path = write(tmp_path, "train.csv", content)
    examples = read_examples(path)
    assert [e.text for e in examples] == [
        "plain text",
        "has, a comma",
        "spans\ntwo lines",
        'say "hi"',
        "last",
    ]
    assert [e.label for e in examples] == ["a", "b", "a", "c", "b"]
    assert [e.line for e in examples] == [2, 3, 4, 6, 7]
    assert all(e.source == str(path) for e in examples)


def test_csv_column_detection_is_case_insensitive_and_ordered(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "ID,Sentence,Intent\n1,hello there,greet\n2,bye now,leave\n")
    examples = read_examples(path)
    assert [(e.text, e.label) for e in examples] == [("hello there", "greet"), ("bye now", "leave")]


def test_csv_named_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "body,y,label\nhello,1,x\n")
    [example] = read_examples(path, text_column="body", label_column="Y")
    assert (example.text, example.label) == ("hello", "1")


def test_csv_blank_lines_are_skipped_and_lines_still_count(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "text,label\n\nfirst,a\n\n\nsecond,b\n")
    assert [e.line for e in read_examples(path)] == [3, 6]


def test_csv_without_label_column_when_labels_not_required(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "id,text\n1,hello\n")
    [example] = read_examples(path, require_labels=False)
    assert example.label is None and example.text == "hello"


def test_tsv_with_stray_quotes_reads_like_glue(tmp_path: Path) -> None:
    content = 'label\ttext_a\n1\t"好"的酒店，服务不错\n0\t他说 "no" 然后走了\n1\t"quoted whole"\n'
    examples = read_examples(write(tmp_path, "train.tsv", content))
    assert [e.text for e in examples] == ['"好"的酒店，服务不错', '他说 "no" 然后走了', '"quoted whole"']
    assert [e.label for e in examples] == ["1", "0", "1"]


def test_tsv_with_proper_quoting(tmp_path: Path) -> None:
    content = 'text\tlabel\n"a\ttab inside"\tx\n"two\nlines"\ty\n'
    examples = read_examples(write(tmp_path, "d.tsv", content))
    assert [e.text for e in examples] == ["a\ttab inside", "two\nlines"]
    assert [e.line for e in examples] == [2, 3]


def test_chnsenticorp_like_splits(tmp_path: Path) -> None:
    train = write(tmp_path, "train.tsv", "label\ttext_a\n1\t很好\n0\t不好\n")
    dev = write(tmp_path, "dev.tsv", "qid\tlabel\ttext_a\n0\t1\t很好\n1\t0\t太差了\n")
    test = write(tmp_path, "test.tsv", "qid\ttext_a\n0\t还行\n1\t一般\n")
    assert [e.label for e in read_examples(train)] == ["1", "0"]
    assert [(e.text, e.label) for e in read_examples(dev)] == [("很好", "1"), ("太差了", "0")]
    with pytest.raises(DataError, match="no label column") as info:
        read_examples(test)
    assert "tuneforge predict" in str(info.value) and "dev" in str(info.value)
    unlabelled = read_examples(test, require_labels=False)
    assert [(e.text, e.label) for e in unlabelled] == [("还行", None), ("一般", None)]


def test_multilabel_csv(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "text,labels\nsports news,sports | politics\nweather,weather\n")
    examples = read_examples(path, task="multilabel")
    assert [e.label for e in examples] == [("sports", "politics"), ("weather",)]


def test_multilabel_custom_separator(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "text,labels\nx,a;b\n")
    assert read_examples(path, task="multilabel", label_separator=";")[0].label == ("a", "b")


# ---------------------------------------------------------------------------------------------- JSON lines


def test_jsonl_classification(tmp_path: Path) -> None:
    lines = [{"text": "good", "label": "pos"}, {"sentence": "bad", "label": 0}]
    content = json.dumps(lines[0]) + "\n\n" + json.dumps(lines[1], ensure_ascii=False) + "\n"
    examples = read_examples(write(tmp_path, "d.jsonl", content))
    assert [(e.text, e.label, e.line) for e in examples] == [("good", "pos", 1), ("bad", "0", 3)]


def test_jsonl_multilabel_list_or_string(tmp_path: Path) -> None:
    content = '{"text": "a", "labels": ["x", "y"]}\n{"text": "b", "labels": "x|z"}\n'
    examples = read_examples(write(tmp_path, "d.jsonl", content), task="multilabel")
    assert [e.label for e in examples] == [("x", "y"), ("x", "z")]


def test_jsonl_ner_tokens_tags(tmp_path: Path) -> None:
    content = json.dumps(
        {"tokens": ["John", "lives", "in", "New", "York"], "tags": ["B-PER", "O", "O", "B-LOC", "I-LOC"]}
    )
    [example] = read_examples(write(tmp_path, "d.jsonl", content + "\n"), task="ner")
    assert example.text == "John lives in New York" and example.sep == " "
    assert example.tags == ("B-PER", "O", "O", "B-LOC", "I-LOC")


def test_resume_style_json_converts_s_tags(tmp_path: Path) -> None:
    rows = [
        {"text": list("高勇：男"), "label": ["B-NAME", "I-NAME", "O", "O"]},
        {"text": list("汉族人"), "label": ["S-RACE", "O", "O"]},
    ]
    content = "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n"
    examples = read_examples(write(tmp_path, "train.json", content), task="ner")
    assert [e.text for e in examples] == ["高勇：男", "汉族人"]
    assert all(e.sep == "" for e in examples)
    assert examples[1].tags == ("B-RACE", "O", "O")
    assert examples[0].token_offsets()[:2] == [(0, 1), (1, 2)]


# ---------------------------------------------------------------------------------------------- CoNLL / BMES


CONLL = """-DOCSTART- -X- -X- O

EU NNP B-NP B-ORG
rejects VBZ B-VP O
German JJ B-NP B-MISC

Peter NNP B-NP B-PER
Blackburn NNP I-NP I-PER
-DOCSTART- -X- -X- O

BRUSSELS NNP B-NP B-LOC
"""


def test_conll_with_docstart(tmp_path: Path) -> None:
    path = write(tmp_path, "train.txt", CONLL)
    assert detect_format(path) == "conll"
    examples = read_examples(path, task="ner")
    assert [e.tokens for e in examples] == [
        ("EU", "rejects", "German"),
        ("Peter", "Blackburn"),
        ("BRUSSELS",),
    ]
    assert [e.tags for e in examples] == [("B-ORG", "O", "B-MISC"), ("B-PER", "I-PER"), ("B-LOC",)]
    assert [e.line for e in examples] == [3, 7, 11]
    assert examples[0].text == "EU rejects German"


def test_conll_columns_and_iob1_conversion(tmp_path: Path) -> None:
    content = "I-PER John x\nI-PER Smith x\nB-PER Mary x\nO met x\nI-LOC Paris x\n"
    examples = read_examples(write(tmp_path, "d.conll", content), task="ner", token_column=1, tag_column=0)
    assert examples[0].tokens == ("John", "Smith", "Mary", "met", "Paris")
    assert examples[0].tags == ("B-PER", "I-PER", "B-PER", "O", "B-LOC")


def test_conll_bioes_conversion(tmp_path: Path) -> None:
    content = "New B-LOC\nYork E-LOC\nis O\nbig O\nBob S-PER\n"
    [example] = read_examples(write(tmp_path, "d.conll", content), task="ner")
    assert example.tags == ("B-LOC", "I-LOC", "O", "O", "B-PER")


def test_conll_tab_separated_and_crlf(tmp_path: Path) -> None:
    content = "A\tB-X\r\nb\tI-X\r\n\r\nc\tO\r\n"
    examples = read_examples(write(tmp_path, "d.conll", content), task="ner")
    assert [e.tags for e in examples] == [("B-X", "I-X"), ("O",)]
    assert [e.line for e in examples] == [1, 4]


def test_bmes_sentence_per_line(tmp_path: Path) -> None:
    content = "高 勇 ： 男\tB-NAME E-NAME O O\n中 国 人\tB-CONT M-CONT E-CONT\n汉\tS-RACE\n"
    path = write(tmp_path, "train.char.bmes", content)
    assert detect_format(path) == "bmes"
    examples = read_examples(path, task="ner")
    assert [e.text for e in examples] == ["高勇：男", "中国人", "汉"]
    assert [e.tags for e in examples] == [
        ("B-NAME", "I-NAME", "O", "O"),
        ("B-CONT", "I-CONT", "I-CONT"),
        ("B-RACE",),
    ]
    assert [e.line for e in examples] == [1, 2, 3]
    assert all(e.sep == "" for e in examples)


def test_bmes_char_per_line(tmp_path: Path) -> None:
    content = "高 B-NAME\n勇 E-NAME\n\n男 O\n"
    examples = read_examples(write(tmp_path, "x.bmes", content), task="ner")
    assert [e.tags for e in examples] == [("B-NAME", "I-NAME"), ("O",)]


def test_bmes_and_json_agree(tmp_path: Path) -> None:
    bmes = write(tmp_path, "a.char.bmes", "张 三 在 北 京\tB-NAME E-NAME O B-LOC E-LOC\n")
    row = {"text": list("张三在北京"), "label": ["B-NAME", "I-NAME", "O", "B-LOC", "I-LOC"]}
    js = write(tmp_path, "a.json", json.dumps(row, ensure_ascii=False) + "\n")
    [a], [b] = read_examples(bmes, task="ner"), read_examples(js, task="ner")
    assert (a.tokens, a.tags, a.sep, a.text) == (b.tokens, b.tags, b.sep, b.text)


# ---------------------------------------------------------------------------------------------- txt


def test_txt_label_first(tmp_path: Path) -> None:
    path = write(tmp_path, "stsa.binary.train", "1 a stirring , funny film\n0 apparently reassembled .\n")
    assert detect_format(path) == "txt"
    examples = read_examples(path)
    assert [(e.label, e.text, e.line) for e in examples] == [
        ("1", "a stirring , funny film", 1),
        ("0", "apparently reassembled .", 2),
    ]


def test_txt_fasttext(tmp_path: Path) -> None:
    path = write(tmp_path, "d.txt", "__label__pos great movie\n__label__neg dull\n")
    assert [(e.label, e.text) for e in read_examples(path)] == [("pos", "great movie"), ("neg", "dull")]
    multi = write(tmp_path, "m.txt", "__label__a __label__b both\n")
    assert read_examples(multi, task="multilabel")[0].label == ("a", "b")


def test_chinese_text_csv(tmp_path: Path) -> None:
    path = write(tmp_path, "zh.csv", "text,label\n这个宾馆比较陈旧了，特价的房间也很一般,0\n")
    [example] = read_examples(path)
    assert example.text == "这个宾馆比较陈旧了，特价的房间也很一般" and example.label == "0"


# ---------------------------------------------------------------------------------------------- detection, read_texts


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("a.csv", "text,label\nx,y\n", "csv"),
        ("a.tsv", "text\tlabel\nx\ty\n", "tsv"),
        ("a.jsonl", '{"text": "x"}\n', "jsonl"),
        ("a.json", '{"text": "x"}\n', "jsonl"),
        ("a.conll", "x O\n", "conll"),
        ("a.char.bmes", "x y\tO O\n", "bmes"),
        ("a.txt", "EU B-ORG\nrejects O\n", "conll"),
        ("a.txt", "pos good film\nneg bad film\n", "txt"),
        ("data", '{"text": "x", "label": "y"}\n', "jsonl"),
        ("data.train", "text\tlabel\nx\ty\n", "tsv"),
    ],
)
def test_detect_format(tmp_path: Path, name: str, content: str, expected: str) -> None:
    assert expected in FORMATS
    assert detect_format(write(tmp_path, name, content)) == expected


def test_read_texts_lines(tmp_path: Path) -> None:
    path = write(tmp_path, "input.txt", "first sentence\n\n  second one  \n")
    examples = read_texts(path)
    assert [(e.text, e.line, e.label) for e in examples] == [
        ("first sentence", 1, None),
        ("second one", 3, None),
    ]


def test_read_texts_csv_jsonl_conll(tmp_path: Path) -> None:
    csv_path = write(tmp_path, "p.csv", "id,review,label\n1,nice,pos\n")
    assert [(e.text, e.label) for e in read_texts(csv_path)] == [("nice", None)]
    js = write(tmp_path, "p.jsonl", '{"query": "hi"}\n')
    assert [e.text for e in read_texts(js)] == ["hi"]
    conll = write(tmp_path, "p.conll", "EU\nrejects\n\nPeter\n")
    examples = read_texts(conll)
    assert [e.tokens for e in examples] == [("EU", "rejects"), ("Peter",)]
    assert all(e.tags is None for e in examples)


def test_read_texts_ignores_tags_and_labels(tmp_path: Path) -> None:
    conll = write(tmp_path, "p.txt", CONLL)
    assert [e.tags for e in read_texts(conll)] == [None, None, None]
    sst = write(tmp_path, "s.txt", "1 good film\n")
    assert read_texts(sst, format="txt")[0].text == "good film"


def test_ner_requires_ner_format(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="cannot hold ner data"):
        read_examples(write(tmp_path, "d.csv", "text,label\nx,y\n"), task="ner")
    with pytest.raises(DataError, match="cannot hold classification data"):
        read_examples(write(tmp_path, "d.conll", "x O\n"))


def test_csv_content_is_recognised_without_a_csv_extension(tmp_path):
    path = tmp_path / "export.dat"
    path.write_text('text,label\n"hello, there",greet\nwhere is my card,card\n', encoding="utf-8")
    examples = read_examples(path)
    assert [(e.text, e.label) for e in examples] == [("hello, there", "greet"), ("where is my card", "card")]
