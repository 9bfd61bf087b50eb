"""The demo dataset generator: determinism, sizes, split hygiene, file formats, noise and difficulty."""

from __future__ import annotations

import csv
import json
import random
import re
from collections import Counter
from pathlib import Path

import pytest

from tuneforge.data import demo
from tuneforge.data.demo import (
    DEFAULT_SIZES,
    DEMO_TASKS,
    ENTITY_TYPES,
    INTENTS,
    TOPICS,
    generate_intents,
    generate_multilabel,
    generate_ner,
    text_key,
    write_demo,
)
from tuneforge.errors import ConfigError

TOKEN = re.compile(r"[\w-]+|[^\w\s]")


def read_csv(path: Path) -> list[tuple[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["text", "label"]
    assert all(len(r) == 2 for r in rows[1:])
    return [(r[0], r[1]) for r in rows[1:]]


def read_conll(path: Path) -> list[list[tuple[str, str]]]:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("-DOCSTART- O\n\n")
    sentences = []
    for block in text[len("-DOCSTART- O\n\n") :].split("\n\n"):
        if block.strip():
            pairs = [line.split(" ") for line in block.strip("\n").split("\n")]
            assert all(len(p) == 2 for p in pairs), block
            sentences.append([(tok, tag) for tok, tag in pairs])
    return sentences


def read_jsonl(path: Path) -> list[tuple[str, list[str]]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return [(r["text"], r["labels"]) for r in rows]


READERS = {"intent": read_csv, "ner": read_conll, "multilabel": read_jsonl}


def texts_of(task: str, rows: list) -> list[str]:
    return [" ".join(t for t, _ in r) if task == "ner" else r[0] for r in rows]


@pytest.fixture(scope="module")
def demo_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Path]]:
    """Every task written once with the default sizes and seed 0."""
    root = tmp_path_factory.mktemp("demo")
    return {task: write_demo(root / task, task) for task in DEMO_TASKS}


@pytest.mark.parametrize("task", DEMO_TASKS)
def test_same_seed_same_bytes_other_seed_other_bytes(
    task: str, tmp_path: Path, demo_dirs: dict[str, dict[str, Path]]
) -> None:
    again = write_demo(tmp_path / "again", task, seed=0)
    other = write_demo(tmp_path / "other", task, seed=1)
    for split, path in demo_dirs[task].items():
        assert again[split].read_bytes() == path.read_bytes()
        assert other[split].read_bytes() != path.read_bytes()


def test_generators_are_deterministic_and_leave_global_random_alone() -> None:
    random.seed(1234)
    state = random.getstate()
    assert generate_intents(50, seed=3) == generate_intents(50, seed=3) != generate_intents(50, seed=4)
    assert generate_ner(30, seed=3) == generate_ner(30, seed=3) != generate_ner(30, seed=4)
    assert (
        generate_multilabel(30, seed=3) == generate_multilabel(30, seed=3) != generate_multilabel(30, seed=4)
    )
    assert random.getstate() == state


@pytest.mark.parametrize("task", DEMO_TASKS)
def test_default_sizes_file_names_and_no_text_shared_across_splits(
    task: str, demo_dirs: dict[str, dict[str, Path]]
) -> None:
    paths = demo_dirs[task]
    assert list(paths) == ["train", "validation", "test"]
    keys = {}
    for (split, path), n in zip(paths.items(), DEFAULT_SIZES[task], strict=True):
        assert path.name == f"{split}.{demo.EXTENSIONS[task]}"
        rows = READERS[task](path)
        assert len(rows) == n
        keys[split] = {text_key(t) for t in texts_of(task, rows)}
    assert not keys["train"] & keys["validation"]
    assert not keys["train"] & keys["test"]
    assert not keys["validation"] & keys["test"]


@pytest.mark.parametrize("task", DEMO_TASKS)
def test_custom_sizes(task: str, tmp_path: Path) -> None:
    paths = write_demo(tmp_path, task, sizes=(30, 13, 0), seed=5)
    assert [len(READERS[task](p)) for p in paths.values()] == [30, 13, 0]


def test_bad_task_or_sizes_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="intent"):
        write_demo(tmp_path, "intents")
    with pytest.raises(ConfigError, match="three counts"):
        write_demo(tmp_path, "ner", sizes=(10, -1, 5))


# --------------------------------------------------------------------------- intent


def test_every_intent_in_each_split_roughly_balanced(demo_dirs: dict[str, dict[str, Path]]) -> None:
    assert len(INTENTS) == 12
    for split, path in demo_dirs["intent"].items():
        counts = Counter(label for _, label in read_csv(path))
        assert set(counts) == set(INTENTS), split
        expected = len(read_csv(path)) / len(INTENTS)
        assert all(0.8 * expected <= c <= 1.2 * expected for c in counts.values()), (split, counts)


def test_csv_round_trips_commas_quotes_and_spaces(
    tmp_path: Path, demo_dirs: dict[str, dict[str, Path]]
) -> None:
    rows = generate_intents(300, seed=2) + [('says "no", then, "yes"', "complaint"), ("a  b ", "greeting")]
    path = tmp_path / "rows.csv"
    path.write_text(demo._csv_text(rows), encoding="utf-8")
    assert read_csv(path) == rows
    train = read_csv(demo_dirs["intent"]["train"])
    assert any("," in t for t, _ in train) and any('"' in t for t, _ in train)
    raw = demo_dirs["intent"]["train"].read_text(encoding="utf-8")
    assert '""' in raw and "\r" not in raw


def test_noise_rates_against_the_clean_version() -> None:
    n = 3000
    clean, noisy = generate_intents(n, seed=7, noise=False), generate_intents(n, seed=7)
    assert len({text_key(t) for t, _ in clean}) == n
    copies = n - len({t for t, _ in noisy})
    assert copies == round(demo.DUPLICATE_RATE * n)
    once = Counter(t for t, _ in noisy)
    pairs = [(c, x) for c, x in zip(clean, noisy, strict=True) if once[x[0]] == 1]

    def rate(cond) -> float:
        return sum(1 for c, x in pairs if cond(c[0], x[0], c[1], x[1])) / len(pairs)

    assert 0.012 <= rate(lambda ct, xt, cl, xl: cl != xl) <= 0.03  # label noise ~2%
    assert 0.035 <= rate(lambda ct, xt, cl, xl: text_key(ct) != text_key(xt)) <= 0.085  # typos ~6%
    assert 0.015 <= rate(lambda ct, xt, cl, xl: xt.isupper() and not ct.isupper()) <= 0.05  # ~3%
    assert 0.06 <= rate(lambda ct, xt, cl, xl: xt == xt.lower() != ct) <= 0.14  # ~10%
    assert 0.02 <= rate(lambda ct, xt, cl, xl: "  " in xt and "  " not in ct) <= 0.07  # ~4%
    assert {t for t, _ in clean if t.endswith("?")} and {t for t, _ in clean if t.endswith((".", "!"))}


def test_label_noise_and_duplicates_only_in_train(demo_dirs: dict[str, dict[str, Path]]) -> None:
    splits = {s: read_csv(p) for s, p in demo_dirs["intent"].items()}
    assert len(splits["train"]) - len(set(splits["train"])) >= 5
    for split in ("validation", "test"):
        assert len({t for t, _ in splits[split]}) == len(splits[split])
    rows = generate_intents(500, seed=1, noise=False)
    kept = demo._add_noise(random.Random(0), list(rows), set(), train=False)
    assert [label for _, label in kept] == [label for _, label in rows]


def test_intents_learnable_but_not_trivial(demo_dirs: dict[str, dict[str, Path]]) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from threadpoolctl import threadpool_limits

    train, test = read_csv(demo_dirs["intent"]["train"]), read_csv(demo_dirs["intent"]["test"])
    model = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True), LogisticRegression(max_iter=2000)
    )
    with threadpool_limits(1):  # a tiny problem: extra BLAS/OpenMP threads only slow it down
        model.fit([t for t, _ in train], [y for _, y in train])
        predicted = model.predict([t for t, _ in test])
    accuracy = sum(p == y for p, (_, y) in zip(predicted, test, strict=True)) / len(test)
    print(f"TF-IDF + LogisticRegression test accuracy: {accuracy:.4f}")
    assert 0.75 <= accuracy <= 0.99, accuracy


# --------------------------------------------------------------------------- NER


def test_ner_files_are_valid_iob2_conll(demo_dirs: dict[str, dict[str, Path]]) -> None:
    for path in demo_dirs["ner"].values():
        for sentence in read_conll(path):
            previous = "O"
            for token, tag in sentence:
                assert TOKEN.fullmatch(token), token
                assert tag == "O" or (tag[:2] in ("B-", "I-") and tag[2:] in ENTITY_TYPES), tag
                if tag.startswith("I-"):
                    assert previous[2:] == tag[2:], sentence
                previous = tag
    assert read_conll(demo_dirs["ner"]["train"]) == generate_ner(DEFAULT_SIZES["ner"][0], seed=0)


def test_ner_covers_every_entity_type_with_multi_token_names() -> None:
    sentences = generate_ner(300, seed=4)
    tags = Counter(tag for s in sentences for _, tag in s)
    for kind in ENTITY_TYPES:
        assert tags[f"B-{kind}"] > 20 and tags[f"I-{kind}"] > 5, kind
    assert any(all(tag == "O" for _, tag in s) for s in sentences)
    assert all(s[-1][0] in ".?!" for s in sentences)


# --------------------------------------------------------------------------- multi-label


def test_multilabel_one_to_three_known_topics(demo_dirs: dict[str, dict[str, Path]]) -> None:
    rows = [r for p in demo_dirs["multilabel"].values() for r in read_jsonl(p)]
    assert all(1 <= len(labels) <= 3 for _, labels in rows)
    assert all(
        labels == [t for t in TOPICS if t in labels] for _, labels in rows
    )  # canonical order, no repeats
    assert Counter(len(labels) for _, labels in rows).keys() == {1, 2, 3}
    assert {t for _, labels in rows for t in labels} == set(TOPICS)
    assert read_jsonl(demo_dirs["multilabel"]["train"]) == generate_multilabel(DEFAULT_SIZES["multilabel"][0])
