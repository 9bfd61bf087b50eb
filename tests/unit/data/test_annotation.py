"""Label Studio and Doccano files: round trips for every task (Chinese NER included) and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tuneforge.data.annotation import (
    FORMATS,
    Where,
    labelstudio_config,
    read_annotations,
    spans_to_example,
    tokenize,
    write_annotations,
)
from tuneforge.errors import ConfigError, DataError
from tuneforge.types import Example

CLASSIFICATION = [
    Example(text="where is my card?", label="card"),
    Example(text="refund please", label="refund"),
]
MULTILABEL = [
    Example(text="charged twice, no parcel", label=("billing", "delivery")),
    Example(text="hi", label=("greeting",)),
]
NER = [
    Example(text="John lives in New York", tokens=("John", "lives", "in", "New", "York"),
            tags=("B-PER", "O", "O", "B-LOC", "I-LOC")),
    Example(text="nothing here", tokens=("nothing", "here"), tags=("O", "O")),
]  # fmt: skip
CHINESE = [Example(text="张三在北京工作", tokens=tuple("张三在北京工作"), tags=("B-PER", "I-PER", "O", "B-LOC", "I-LOC", "O", "O"), sep="")]  # fmt: skip


@pytest.mark.parametrize("format", FORMATS)
@pytest.mark.parametrize(
    "task, examples",
    [("classification", CLASSIFICATION), ("multilabel", MULTILABEL), ("ner", NER), ("ner", CHINESE)],
)
def test_round_trip(tmp_path: Path, format: str, task: str, examples: list[Example]) -> None:
    path = write_annotations(tmp_path / f"out.{format}", examples, format, task)
    got = read_annotations(path, format, task, keep_empty=True)
    assert got.skipped == got.unannotated == 0
    if task == "ner":
        assert [(e.tokens, e.tags) for e in got.examples] == [(e.tokens, e.tags) for e in examples]
    else:
        assert [(e.text, e.label) for e in got.examples] == [(e.text, e.label) for e in examples]


def test_labelstudio_layout_and_config(tmp_path: Path) -> None:
    path = write_annotations(tmp_path / "ls.json", NER[:1], "labelstudio", "ner")
    task = json.loads(path.read_text())[0]
    spans = [
        (r["value"]["start"], r["value"]["end"], r["value"]["labels"])
        for r in task["annotations"][0]["result"]
    ]
    assert task["data"]["text"] == "John lives in New York" and spans == [(0, 4, ["PER"]), (14, 22, ["LOC"])]
    assert '<Label value="LOC"/>' in labelstudio_config("ner", ["LOC", "PER"])
    assert 'choice="multiple"' in labelstudio_config("multilabel", ["a"])


def test_doccano_layout(tmp_path: Path) -> None:
    path = write_annotations(tmp_path / "d.jsonl", CLASSIFICATION[:1], "doccano", "classification")
    assert json.loads(path.read_text()) == {"text": "where is my card?", "label": ["card"]}
    path = write_annotations(tmp_path / "n.jsonl", NER[:1], "doccano", "ner")
    assert json.loads(path.read_text())["label"] == [[0, 4, "PER"], [14, 22, "LOC"]]


def test_doccano_older_entities_key_and_empty_lines(tmp_path: Path) -> None:
    path = tmp_path / "old.jsonl"
    rows = [
        {
            "text": "Ada met Bob.",
            "entities": [{"start_offset": 0, "end_offset": 3, "label": "PER"}, [8, 11, "PER"]],
        },
        {"text": "no entities", "label": []},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    got = read_annotations(path, "doccano", "ner")
    assert got.unannotated == 1 and got.examples[0].tokens == ("Ada", "met", "Bob", ".")
    assert got.examples[0].tags == ("B-PER", "O", "B-PER", "O")
    assert len(read_annotations(path, "doccano", "ner", keep_empty=True).examples) == 2


def test_labelstudio_skipped_unannotated_latest_wins(tmp_path: Path) -> None:
    def choice(label: str, cancelled: bool = False) -> dict:
        result = [{"type": "choices", "from_name": "label", "to_name": "text", "value": {"choices": [label]}}]
        return {"result": result, "was_cancelled": cancelled}

    tasks = [
        {"id": 7, "data": {"text": "a"}, "annotations": [choice("x"), choice("y")]},
        {"data": {"text": "b"}, "annotations": [choice("x", cancelled=True)]},
        {"data": {"text": "c"}},
        {"data": {"text": "d"}, "annotations": [{"result": [{"type": "textarea", "value": {}}, *choice("z")["result"]]}]},
    ]  # fmt: skip
    path = tmp_path / "ls.json"
    path.write_text(json.dumps(tasks))
    got = read_annotations(path, "labelstudio", "classification")
    assert [(e.text, e.label) for e in got.examples] == [("a", "y"), ("d", "z")]
    assert (got.skipped, got.unannotated, got.ignored_results) == (1, 1, 1)


def test_tokens_split_at_punctuation_next_to_spans_only() -> None:
    ex = spans_to_example("I moved to Paris. It rains.", [(11, 16, "LOC")])
    assert ex.tokens == ("I", "moved", "to", "Paris", ".", "It", "rains.")
    assert ex.tags == ("O", "O", "O", "B-LOC", "O", "O", "O")
    assert [t for t in tokenize("中文 text 混合句子很长")][:2] == [(0, 1), (1, 2)]
    mixed = spans_to_example("Li 李明 said", [(3, 4, "PER")])
    assert mixed.tokens == ("Li", "李", "明", "said") and mixed.tags[1:3] == ("B-PER", "O")


def test_whitespace_around_a_span_is_trimmed() -> None:
    ex = spans_to_example("visit Rome now", [(5, 11, "LOC")])
    assert ex.tags == ("O", "B-LOC", "O")


@pytest.mark.parametrize(
    "spans, message",
    [
        ([(11, 14, "LOC")], "span [11, 14) 'Par' does not align with the token 'Paris.'"),
        ([(11, 16, "LOC"), (13, 17, "X")], "overlaps another span"),
        ([(11, 99, "LOC")], "(11, 99, 'LOC') is out of range"),
        ([(5, 3, "LOC")], "is out of range"),
        ([(1, 2, "LOC")], "covers only whitespace"),
    ],
)
def test_span_errors_name_file_task_and_span(spans, message) -> None:
    with pytest.raises(DataError) as err:
        spans_to_example("I moved to Paris. It rains.", spans, Where("tasks.json", None, "task 4 (id 9)"))
    assert str(err.value).startswith("tasks.json: task 4 (id 9): span") and message in str(err.value)


def test_doccano_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text('{"text": "ok", "label": []}\n{"text": "Ada Lovelace", "label": [[0, 2, "PER"]]}\n')
    with pytest.raises(DataError, match=r"d.jsonl:2: span \[0, 2\) 'Ad' does not align"):
        read_annotations(path, "doccano", "ner")


@pytest.mark.parametrize(
    "content, format, task, message",
    [
        ('[{"data": {"txt": "a"}}]', "labelstudio", "classification", "Did you mean 'txt'?"),
        ("{not json", "labelstudio", "classification", "not valid JSON"),
        ('{"text": "a", "label": ["x", "y"]}\n', "doccano", "classification", "has 2 labels"),
        ('{"label": ["x"]}\n', "doccano", "classification", "non-empty 'text'"),
        ('{"text": "a b", "label": [[0, 1]]}\n', "doccano", "ner", "is not [start, end, type]"),
    ],
)
def test_read_errors(tmp_path: Path, content: str, format: str, task: str, message: str) -> None:
    path = tmp_path / "in.json"
    path.write_text(content)
    with pytest.raises(DataError, match=message.replace("[", r"\[")):
        read_annotations(path, format, task)


def test_labelstudio_span_text_mismatch_and_wrong_task(tmp_path: Path) -> None:
    value = {"start": 0, "end": 3, "text": "Bob", "labels": ["PER"]}
    path = tmp_path / "ls.json"
    path.write_text(
        json.dumps(
            [
                {
                    "data": {"text": "Ada met Bob"},
                    "annotations": [{"result": [{"type": "labels", "value": value}]}],
                }
            ]
        )
    )
    with pytest.raises(DataError, match="task 1: span .* says its text is 'Bob'"):
        read_annotations(path, "labelstudio", "ner")
    with pytest.raises(DataError, match="use --task ner"):
        read_annotations(path, "labelstudio", "classification")


def test_unknown_format_and_task(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        read_annotations(tmp_path / "x", "prodigy", "ner")
    with pytest.raises(ConfigError, match="Did you mean 'ner'"):
        read_annotations(tmp_path / "x", "doccano", "nerr")
