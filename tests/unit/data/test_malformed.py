"""A corpus of malformed data files: each must give a DataError naming the file, the line and the problem.
Plus a property test: whatever the bytes, the readers return examples or raise DataError, nothing else."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tuneforge.data.readers import read_examples, read_texts
from tuneforge.errors import DataError


@dataclass
class Case:
    id: str
    name: str  # file name to write ("" for a path that does not exist, "/" for a directory)
    content: str | bytes
    phrase: str
    line: int | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)


NER = {"task": "ner"}
CASES = [
    Case(
        "unterminated-quote", "q.csv", 'text,label\nok,a\n"never closed,b\nmore,c\n', "unterminated quote", 3
    ),
    Case("after-closing-quote", "aq.csv", 'text,label\nok,a\n"quoted"tail,b\n', "after a closing quote", 3),
    Case("wrong-field-count", "f.csv", "text,label\nok,a\none,two,three\n", "expected 2 fields", 3),
    Case("tsv-field-count", "f.tsv", "text\tlabel\nok\ta\nonly-one\n", "expected 2 fields", 3),
    Case(
        "named-text-column-missing",
        "c.csv",
        "sentence_text,label\nx,y\n",
        "Did you mean 'sentence_text'",
        1,
        {"text_column": "sentence_txt"},
    ),
    Case("no-column", "c2.csv", "body,label\nx,y\n", "no column 'review'", 1, {"text_column": "review"}),
    Case("no-text-column", "nt.csv", "body,label\nx,y\n", "no text column", 1),
    Case("no-label-column", "nl.csv", "text,verdict\nx,y\n", "no label column", 1),
    Case("chnsenticorp-test", "test.tsv", "qid\ttext_a\n0\t还行\n", "tuneforge predict", 1),
    Case("empty-label", "el.csv", "text,label\nok,a\nhello,  \n", "empty label", 3),
    Case("empty-text", "et.csv", "text,label\nok,a\n ,b\n", "empty text", 3),
    Case("empty-file", "empty.csv", b"", "the file is empty"),
    Case("blank-file", "blank.jsonl", "\n  \n\n", "the file is empty"),
    Case("header-only", "h.csv", "text,label\n", "header row but no examples", 1),
    Case("invalid-json", "j.jsonl", '{"text": "a", "label": "b"}\n{"text": "a",\n', "not valid JSON", 2),
    Case("json-array-file", "arr.json", '[{"text": "a", "label": "b"}]\n', "JSON array", 1),
    Case(
        "jsonl-non-object",
        "n.jsonl",
        '{"text": "a", "label": "b"}\n["a", "b"]\n',
        "expected a JSON object",
        2,
    ),
    Case("jsonl-label-type", "lt.jsonl", '{"text": "a", "label": {"x": 1}}\n', "label must be a string", 1),
    Case("jsonl-label-list", "ll.jsonl", '{"text": "a", "label": ["x"]}\n', "task: multilabel", 1),
    Case("jsonl-text-type", "tt.jsonl", '{"text": 3, "label": "x"}\n', "text must be a string", 1),
    Case("jsonl-no-text", "nt.jsonl", '{"txt": "a", "label": "x"}\n', "no text field", 1),
    Case(
        "ner-mismatch",
        "m.jsonl",
        json.dumps({"tokens": ["a"], "tags": ["O"]})
        + "\n"
        + json.dumps({"tokens": ["a", "b", "c"], "tags": ["O", "O"]})
        + "\n",
        "3 tokens but 2 tags",
        2,
        NER,
    ),
    Case("ner-tokens-type", "tk.jsonl", '{"tokens": "a b", "tags": ["O", "O"]}\n', "tokens must be", 1, NER),
    Case("conll-columns", "c.conll", "EU B-ORG\nrejects O\n\nGerman\n", "too few columns", 4, NER),
    Case("conll-malformed-tag", "t.conll", "EU B-ORG\nrejects X-Y\n", "malformed tag 'X-Y'", 2, NER),
    Case("conll-bare-type", "bt.conll", "EU ORG\n", "malformed tag 'ORG'", 1, NER),
    Case(
        "bmes-mismatch",
        "train.char.bmes",
        "高 勇\tB-NAME E-NAME\n中 国 人\tB-CONT E-CONT\n",
        "3 tokens but 2",
        2,
        NER,
    ),
    Case("bmes-no-tab", "x.char.bmes", "高 勇\tB-NAME E-NAME\n中 国 人\n", "a TAB", 2, NER),
    Case(
        "bmes-bad-tag", "y.char.bmes", "高 勇\tB-NAME E-NAME\n中 国\tB-CONT Q\n", "malformed tag 'Q'", 2, NER
    ),
    Case("txt-no-text", "s.txt", "1 fine film\n0\n", "no text after the label", 2, {"format": "txt"}),
    Case(
        "not-utf8",
        "u.csv",
        "text,label\ncafé,a\n".encode() + b"na\xefve,b\n" + "résumé,c\n".encode(),
        "not UTF-8",
        3,
    ),
    Case(
        "explicit-encoding",
        "e.csv",
        "text,label\ncafé,a\n".encode(),
        "cannot be decoded as ascii",
        2,
        {"encoding": "ascii"},
    ),
    Case("binary", "b.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "looks like a binary file"),
    Case("missing-path", "", "", "file not found"),
    Case("directory", "/", "", "is a directory"),
    Case("unknown-format", "data.xyz", "oneword\nanother\n", "unknown data format"),
    Case(
        "bad-format-option",
        "f.csv",
        "text,label\na,b\n",
        "unknown data format 'cvs'",
        None,
        {"format": "cvs"},
    ),
    Case("ner-in-csv", "n.csv", "text,label\na,b\n", "cannot hold ner data", None, NER),
]


def make(tmp_path: Path, case: Case) -> Path:
    if case.name == "":
        return tmp_path / "no_such_train.csv"
    if case.name == "/":
        path = tmp_path / "datadir"
        path.mkdir()
        (path / "train.csv").write_text("text,label\na,b\n")
        return path
    path = tmp_path / case.name
    path.write_bytes(case.content.encode() if isinstance(case.content, str) else case.content)
    return path


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 18 and len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_malformed(tmp_path: Path, case: Case) -> None:
    path = make(tmp_path, case)
    with pytest.raises(DataError) as info:
        read_examples(path, **case.kwargs)
    message = str(info.value)
    assert path.name in message, message
    assert case.phrase in message, message
    if case.line is not None:
        assert info.value.line == case.line, message
        assert f"{path.name}:{case.line}:" in message, message
    assert info.value.hint, f"no hint in: {message}"


# ---------------------------------------------------------------------------------------------- property test

_counter = itertools.count()
_ALPHABET = st.sampled_from(
    list(',"\t\n\r {}[]:\\ab0é中-BIOE') + ["B-PER", "I-PER", "O", "text", "label", '"text"']
)
_CONTENT = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=200),
    st.lists(_ALPHABET, max_size=60).map("".join),
    st.lists(_ALPHABET, max_size=60).map(lambda parts: "text,label\n" + "".join(parts)),
    st.lists(_ALPHABET, max_size=60).map(lambda parts: '{"tokens": ' + "".join(parts)),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=_CONTENT, ext=st.sampled_from([".csv", ".tsv", ".jsonl", ".conll", ".bmes", ".txt"]))
def test_never_an_unexpected_exception(tmp_path: Path, content: str | bytes, ext: str) -> None:
    path = tmp_path / f"f{next(_counter)}{ext}"
    path.write_bytes(content.encode("utf-8", "surrogatepass") if isinstance(content, str) else content)
    tasks = ["ner"] if ext in (".conll", ".bmes") else ["classification", "multilabel"]
    tasks += ["ner"] if ext == ".jsonl" else []
    for task in tasks:
        try:
            examples = read_examples(path, task=task)
        except DataError:
            continue
        assert examples and all(e.source == str(path) and e.line >= 1 for e in examples)
    try:
        texts = read_texts(path)
    except DataError:
        return
    assert texts and all(e.label is None and e.tags is None and e.line >= 1 for e in texts)
