"""The readers on the real public datasets in ../shared/data (skipped when that folder is absent)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest

from tuneforge.data.readers import detect_format, read_examples, read_texts
from tuneforge.errors import DataError
from tuneforge.types import Example

ROOT = Path(__file__).resolve().parents[2]
DATA = (ROOT / ".." / "shared" / "data").resolve()


@pytest.fixture(autouse=True)
def _need_data() -> None:
    if not DATA.is_dir():
        pytest.skip("../shared/data not found: real-dataset tests need it")


@cache
def read(rel: str, **kwargs: object) -> list[Example]:
    path = DATA / rel
    if not path.is_file():
        pytest.skip(f"{path} not found")
    return read_examples(path, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(("split", "count"), [("train.csv", 10003), ("test.csv", 3080)])
def test_banking77(split: str, count: int) -> None:
    examples = read(f"banking77/{split}")
    assert len(examples) == count
    categories = json.loads((DATA / "banking77" / "categories.json").read_text())
    assert len(categories) == 77
    assert {e.label for e in examples} == set(categories)
    assert all(e.text.strip() for e in examples)
    # quoted fields with commas are whole texts, and line numbers count the CRLF lines of the file
    assert any("," in e.text for e in examples)
    assert examples[0].line == 2


@pytest.mark.parametrize(("split", "count"), [("train.txt", 14041), ("dev.txt", 3250), ("test.txt", 3453)])
def test_conll2003(split: str, count: int) -> None:
    assert detect_format(DATA / "conll2003" / split) == "conll"
    examples = read(f"conll2003/{split}", task="ner")
    assert len(examples) == count
    allowed = {"O"} | {f"{p}-{t}" for p in "BI" for t in ("PER", "LOC", "ORG", "MISC")}
    assert {tag for e in examples for tag in e.tags or ()} == allowed
    assert all(e.tokens and e.tags and len(e.tokens) == len(e.tags) and e.sep == " " for e in examples)
    assert not any(tok == "-DOCSTART-" for e in examples for tok in e.tokens or ())


def test_conll2003_iob2_tags_unchanged() -> None:
    """The file is already IOB2: the tags read must be exactly those in the 4th column."""
    raw = [
        ln.split()[3]
        for ln in (DATA / "conll2003" / "train.txt").read_text().split("\n")
        if ln.strip() and not ln.startswith("-DOCSTART-")
    ]
    assert [tag for e in read("conll2003/train.txt", task="ner") for tag in e.tags or ()] == raw


@pytest.mark.parametrize(
    ("split", "count"), [("stsa.binary.train", 6920), ("stsa.binary.dev", 872), ("stsa.binary.test", 1821)]
)
def test_sst2(split: str, count: int) -> None:
    assert detect_format(DATA / "sst2" / split) == "txt"
    examples = read(f"sst2/{split}")
    assert len(examples) == count
    assert {e.label for e in examples} == {"0", "1"}
    assert [e.line for e in examples] == list(range(1, count + 1))


@pytest.mark.parametrize(("split", "count"), [("train.tsv", 9600), ("dev.tsv", 1200)])
def test_chnsenticorp_labelled(split: str, count: int) -> None:
    examples = read(f"chnsenticorp/{split}")
    assert len(examples) == count
    assert {e.label for e in examples} == {"0", "1"}
    assert all(e.text.strip() and not e.text.isdigit() for e in examples)


def test_chnsenticorp_dev_columns() -> None:
    """dev.tsv is qid, label, text_a: the label comes from `label`, the text from `text_a`."""
    first = (DATA / "chnsenticorp" / "dev.tsv").read_text(encoding="utf-8").split("\n")[1].split("\t")
    example = read("chnsenticorp/dev.tsv")[0]
    assert (example.label, example.text) == (first[1], first[2])


def test_chnsenticorp_test_has_no_labels() -> None:
    path = DATA / "chnsenticorp" / "test.tsv"
    with pytest.raises(DataError, match="no label column") as info:
        read_examples(path)
    assert "tuneforge predict" in str(info.value)
    unlabelled = read("chnsenticorp/test.tsv", require_labels=False)
    assert len(unlabelled) == 1200 and all(e.label is None for e in unlabelled)
    assert len(read_texts(path)) == 1200


@pytest.mark.parametrize(("split", "count"), [("train", 3821), ("dev", 463), ("test", 477)])
def test_resume_ner_bmes_and_json_agree(split: str, count: int) -> None:
    bmes = read(f"resume_ner/{split}.char.bmes", task="ner")
    js = read(f"resume_ner/{split}.json", task="ner")
    assert len(bmes) == len(js) == count
    for a, b in zip(bmes, js, strict=True):
        assert a.tokens == b.tokens and a.tags == b.tags and a.text == b.text
        assert a.sep == b.sep == ""
    labels = {ln.strip() for ln in (DATA / "resume_ner" / "labels.txt").read_text().split("\n") if ln.strip()}
    types = {lab.split("-", 1)[1] for lab in labels if lab != "O"}
    assert {tag.split("-", 1)[-1] for e in bmes for tag in e.tags or () if tag != "O"} <= types
    assert {tag[0] for e in bmes for tag in e.tags or ()} <= {"B", "I", "O"}
