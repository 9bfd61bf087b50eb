"""Deterministic generators of small demo datasets (used by ``make demo``, the docs and the tests).

Three tasks, all built from the templates and word lists of :mod:`tuneforge.data.demo_vocab`:

* ``intent``: customer-service utterances of a fictional bank/shop assistant, 12 intents (single label);
* ``ner``: short news/support sentences with PER, ORG, LOC and PRODUCT entities (IOB2 tags);
* ``multilabel``: support tickets tagged with one to three of six topics.

Everything comes from ``random.Random(seed)`` (never the global random state): the same seed gives the
same data and byte-identical files. Intent data carries realistic noise: typos, lower/upper case, extra
spaces in every split; a few exact duplicates and about 2% wrong labels in ``train`` only.
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

from tuneforge.data import demo_vocab as vocab
from tuneforge.errors import ConfigError, did_you_mean
from tuneforge.io import atomic_write

DEMO_TASKS = ("intent", "ner", "multilabel")
SPLITS = ("train", "validation", "test")
DEFAULT_SIZES: dict[str, tuple[int, int, int]] = {
    "intent": (1200, 200, 300),
    "ner": (800, 150, 200),
    "multilabel": (600, 100, 150),
}
EXTENSIONS = {"intent": "csv", "ner": "conll", "multilabel": "jsonl"}
INTENTS = vocab.INTENTS
TOPICS = vocab.TOPICS
ENTITY_TYPES = ("PER", "ORG", "LOC", "PRODUCT")

# Share of intent examples with each kind of noise.
TYPO_RATE = 0.06
LOWER_RATE = 0.10
UPPER_RATE = 0.03
SPACE_RATE = 0.04
DUPLICATE_RATE = 0.01  # train only
LABEL_NOISE_RATE = 0.02  # train only

_SLOT = re.compile(r"\{(\w+)\}")
_MAX_TRIES = 5000
_WORDS: dict[str, Sequence[str]] = {**vocab.INTENT_SLOTS, **vocab.NER_WORDS}
_INTENT_TEMPLATES: dict[str, tuple[str, ...]] = {
    label: templates + tuple(t for labels, t in vocab.AMBIGUOUS_TEMPLATES if label in labels)
    for label, templates in vocab.INTENT_TEMPLATES.items()
}

T = TypeVar("T")
IntentRow = tuple[str, str]
Sentence = list[tuple[str, str]]
Ticket = tuple[str, list[str]]


# --------------------------------------------------------------------------- slot filling


def _digits(rng: random.Random, k: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(k))


def _amount(rng: random.Random) -> str:
    return rng.choice(vocab.CURRENCY_FORMATS).format(n=rng.choice(vocab.AMOUNTS))


def _order(rng: random.Random) -> str:
    return rng.choice(("#{}", "TF-{}", "number {}", "{}")).format(_digits(rng, rng.choice((5, 6))))


def _street(rng: random.Random) -> str:
    street = f"{rng.randint(1, 240)} {rng.choice(vocab.STREET_NAMES)}"
    return f"Flat {rng.randint(1, 12)}, {street}" if rng.random() < 0.2 else street


def _person(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.35:
        return rng.choice(vocab.FIRST_NAMES)
    if r < 0.7:
        return f"{rng.choice(vocab.FIRST_NAMES)} {rng.choice(vocab.LAST_NAMES)}"
    return rng.choice(vocab.INTENT_SLOTS["relation"])


_GENERATED: dict[str, Callable[[random.Random], str]] = {
    "amount": _amount,
    "digits": lambda rng: _digits(rng, 4),
    "order": _order,
    "street": _street,
    "person": _person,
    "name": lambda rng: rng.choice(vocab.FIRST_NAMES),
    "phone": lambda rng: f"07{_digits(rng, 3)} {_digits(rng, 3)} {_digits(rng, 3)}",
}


def _fill(template: str, rng: random.Random, words: Mapping[str, Sequence[str]] = _WORDS) -> str:
    """Replace every ``{slot}`` (recursively) with a generated value or a word from ``words``."""

    def one(match: re.Match[str]) -> str:
        key = match.group(1)
        if key in _GENERATED:
            return _GENERATED[key](rng)
        return _fill(rng.choice(words[key]), rng, words)

    return _SLOT.sub(one, template)


def _capitalize(text: str) -> str:
    return text[:1].upper() + text[1:]


def text_key(text: str) -> str:
    """Normalised form used to deduplicate: lower case, punctuation and extra whitespace removed."""
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def _unique(
    rng: random.Random, n: int, seen: set[str], make: Callable[[int], T], key: Callable[[T], str]
) -> list[T]:
    """``n`` items ``make(i)`` whose ``key`` is not in ``seen`` (which is updated)."""
    out: list[T] = []
    for i in range(n):
        for _ in range(_MAX_TRIES):
            item = make(i)
            k = key(item)
            if k not in seen:
                seen.add(k)
                out.append(item)
                break
        else:
            raise ConfigError(f"the demo vocabulary cannot produce {n} distinct examples; ask for fewer")
    return out


def _balanced(rng: random.Random, labels: Sequence[str], n: int) -> list[str]:
    """``n`` labels, each appearing ``n // len(labels)`` or one more times, in shuffled blocks."""
    out: list[str] = []
    while len(out) < n:
        block = list(labels)
        rng.shuffle(block)
        out.extend(block)
    return out[:n]


# --------------------------------------------------------------------------- intents


def _intent_text(rng: random.Random, label: str) -> str:
    """One clean utterance for ``label``: opener + filled template + politeness + punctuation."""
    core = _fill(rng.choice(_INTENT_TEMPLATES[label]), rng)
    ends = vocab.QUESTION_ENDS if core.endswith("?") else vocab.STATEMENT_ENDS
    text = (
        rng.choice(vocab.INTENT_OPENERS)
        + core.rstrip("?")
        + rng.choice(vocab.INTENT_INNER)
        + rng.choice(ends)
        + rng.choice(vocab.INTENT_CLOSERS)
    )
    return _capitalize(text) if rng.random() < 0.6 else text


def _clean_intents(rng: random.Random, n: int, seen: set[str]) -> list[IntentRow]:
    labels = _balanced(rng, INTENTS, n)
    return _unique(
        rng, n, seen, lambda i: (_intent_text(rng, labels[i]), labels[i]), lambda r: text_key(r[0])
    )


def _typo(rng: random.Random, text: str) -> str:
    """Swap, drop or double one letter of a word of four letters or more."""
    words = [m.span() for m in re.finditer(r"[A-Za-z]{4,}", text)]
    if not words:
        return text
    start, end = rng.choice(words)
    w, i = text[start:end], rng.randrange(end - start - 1)
    op = rng.choice(("swap", "drop", "double"))
    if op == "swap" and w[i] != w[i + 1]:
        w = w[:i] + w[i + 1] + w[i] + w[i + 2 :]
    elif op == "double":
        w = w[: i + 1] + w[i:]
    else:
        w = w[:i] + w[i + 1 :]
    return text[:start] + w + text[end:]


def _text_noise(rng: random.Random, text: str, taken: set[str]) -> str:
    """Maybe add a typo (only if the result is still a new text), change case, or double a space."""
    if rng.random() < TYPO_RATE:
        typo = _typo(rng, text)
        if text_key(typo) not in taken:
            taken.add(text_key(typo))
            text = typo
    r = rng.random()
    if r < LOWER_RATE:
        text = text.lower()
    elif r < LOWER_RATE + UPPER_RATE:
        text = text.upper()
    if rng.random() < SPACE_RATE:
        spaces = [i for i, c in enumerate(text) if c == " "]
        at = rng.choice(spaces) if spaces else len(text)
        text = text[:at] + " " * rng.randint(1, 2) + text[at:]
    return text


def _wrong_label(rng: random.Random, label: str) -> str:
    """A different label, half the time one that is easily confused with ``label``."""
    confusable = vocab.CONFUSABLE.get(label, ())
    if confusable and rng.random() < 0.5:
        return rng.choice(confusable)
    return rng.choice([x for x in INTENTS if x != label])


def _add_noise(rng: random.Random, rows: list[IntentRow], taken: set[str], train: bool) -> list[IntentRow]:
    """Text noise on every row; for ``train`` also wrong labels and exact duplicates (rows stay aligned)."""
    rows = [(_text_noise(rng, text, taken), label) for text, label in rows]
    if not train or len(rows) < 2:
        return rows
    for i in rng.sample(range(len(rows)), round(LABEL_NOISE_RATE * len(rows))):
        rows[i] = (rows[i][0], _wrong_label(rng, rows[i][1]))
    copies = rng.sample(range(len(rows)), round(DUPLICATE_RATE * len(rows)))
    originals = sorted(set(range(len(rows))) - set(copies))
    for i in copies:
        rows[i] = rows[rng.choice(originals)]
    return rows


def _noise_rng(seed: int) -> random.Random:
    return random.Random(f"tuneforge-demo-noise-{seed}")


def generate_intents(n: int, seed: int = 0, noise: bool = True) -> list[tuple[str, str]]:
    """``n`` (text, label) customer-service utterances, about equally many per intent.

    With ``noise=False`` the texts are distinct (after :func:`text_key`) and correctly labelled. With
    ``noise=True`` the same rows get typos, case and whitespace noise, ~2% wrong labels and ~1% of rows
    replaced by exact copies of others (noise comes from a separate stream, so row ``i`` of both
    versions is the same utterance unless it was replaced by a copy).
    """
    rows = _clean_intents(random.Random(seed), n, set())
    if not noise:
        return rows
    return _add_noise(_noise_rng(seed), rows, {text_key(t) for t, _ in rows}, train=True)


# --------------------------------------------------------------------------- NER


def _entity(rng: random.Random, kind: str, used: set[str]) -> list[str]:
    """Tokens of a PER/ORG/LOC/PRODUCT name not already used in the sentence."""
    for _ in range(20):
        if kind == "PER":
            first, last, r = rng.choice(vocab.FIRST_NAMES), rng.choice(vocab.LAST_NAMES), rng.random()
            name = first if r < 0.2 else last if r < 0.35 else f"{first} {last}"
        else:
            name = rng.choice(vocab.NER_ENTITIES[kind])
        if name not in used:
            break
    used.add(name)
    return name.split()


def _ner_sentence(rng: random.Random) -> Sentence:
    """One sentence of (token, IOB2 tag) pairs from a random template."""
    out: Sentence = []
    used: set[str] = set()
    for piece in rng.choice(vocab.NER_TEMPLATES).split():
        slot = _SLOT.fullmatch(piece)
        if slot and slot.group(1) in ENTITY_TYPES:
            kind = slot.group(1)
            tokens = _entity(rng, kind, used)
            out += [(tok, ("B-" if j == 0 else "I-") + kind) for j, tok in enumerate(tokens)]
        elif slot:
            out += [(tok, "O") for tok in _fill(piece, rng).split()]
        else:
            out.append((piece, "O"))
    return out


def _draw_ner(rng: random.Random, n: int, seen: set[str]) -> list[Sentence]:
    return _unique(rng, n, seen, lambda _: _ner_sentence(rng), lambda s: " ".join(t for t, _ in s).lower())


def generate_ner(n: int, seed: int = 0) -> list[list[tuple[str, str]]]:
    """``n`` distinct sentences, each a list of (token, tag) with IOB2 tags over PER/ORG/LOC/PRODUCT."""
    return _draw_ner(random.Random(seed), n, set())


# --------------------------------------------------------------------------- multi-label tickets


def _ticket(rng: random.Random) -> Ticket:
    """A support ticket about one to three topics, with its topics in canonical order."""
    topics = rng.sample(TOPICS, rng.choices((1, 2, 3), weights=(0.45, 0.38, 0.17))[0])
    text = _fill(rng.choice(vocab.TOPIC_CLAUSES[topics[0]]), rng)
    for topic in topics[1:]:
        joiner, clause = rng.choice(vocab.TICKET_JOINERS), _fill(rng.choice(vocab.TOPIC_CLAUSES[topic]), rng)
        text += joiner + (_capitalize(clause) if joiner.endswith(". ") else clause)
    opener = rng.choice(vocab.TICKET_OPENERS)
    text = (
        opener
        + (text if opener.endswith(", ") else _capitalize(text))
        + _fill(rng.choice(vocab.TICKET_CLOSERS), rng)
    )
    return _capitalize(text), [t for t in TOPICS if t in topics]


def _draw_multilabel(rng: random.Random, n: int, seen: set[str]) -> list[Ticket]:
    return _unique(rng, n, seen, lambda _: _ticket(rng), lambda r: text_key(r[0]))


def generate_multilabel(n: int, seed: int = 0) -> list[tuple[str, list[str]]]:
    """``n`` distinct (text, labels) support tickets; labels are 1-3 of :data:`TOPICS`."""
    return _draw_multilabel(random.Random(seed), n, set())


# --------------------------------------------------------------------------- files


def _csv_text(rows: Sequence[IntentRow]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["text", "label"])
    writer.writerows(rows)
    return buf.getvalue()


def _conll_text(sentences: Sequence[Sentence]) -> str:
    blocks = ["-DOCSTART- O\n"] + ["".join(f"{tok} {tag}\n" for tok, tag in s) for s in sentences]
    return "\n".join(blocks) + "\n"


def _jsonl_text(rows: Sequence[Ticket]) -> str:
    return "".join(json.dumps({"text": t, "labels": ls}, ensure_ascii=False) + "\n" for t, ls in rows)


def _intent_files(seed: int, sizes: Sequence[int]) -> dict[str, str]:
    rng, seen = random.Random(seed), set[str]()
    clean = {split: _clean_intents(rng, n, seen) for split, n in zip(SPLITS, sizes, strict=True)}
    noise_rng, taken = _noise_rng(seed), set(seen)
    return {s: _csv_text(_add_noise(noise_rng, rows, taken, train=s == "train")) for s, rows in clean.items()}


def _ner_files(seed: int, sizes: Sequence[int]) -> dict[str, str]:
    rng, seen = random.Random(seed), set[str]()
    return {split: _conll_text(_draw_ner(rng, n, seen)) for split, n in zip(SPLITS, sizes, strict=True)}


def _multilabel_files(seed: int, sizes: Sequence[int]) -> dict[str, str]:
    rng, seen = random.Random(seed), set[str]()
    return {
        split: _jsonl_text(_draw_multilabel(rng, n, seen)) for split, n in zip(SPLITS, sizes, strict=True)
    }


def _write_file(path: Path, data: bytes) -> None:
    """Write ``data`` atomically, byte for byte (no newline translation)."""

    def write(tmp: Path) -> None:
        tmp.write_bytes(data)

    atomic_write(path, write)


_FILE_BUILDERS: dict[str, Callable[[int, Sequence[int]], dict[str, str]]] = {
    "intent": _intent_files,
    "ner": _ner_files,
    "multilabel": _multilabel_files,
}


def write_demo(
    out_dir: str | Path, task: str = "intent", sizes: tuple[int, int, int] | None = None, seed: int = 0
) -> dict[str, Path]:
    """Write the train/validation/test files of a demo ``task`` into ``out_dir``; return their paths.

    ``sizes`` is (train, validation, test), by default :data:`DEFAULT_SIZES`. No text (after
    :func:`text_key`) appears in two splits; label noise and duplicates are in ``train`` only.
    """
    if task not in DEMO_TASKS:
        raise ConfigError(
            f"unknown demo task {task!r}; choose one of {', '.join(DEMO_TASKS)}.{did_you_mean(task, DEMO_TASKS)}"
        )
    sizes = DEFAULT_SIZES[task] if sizes is None else sizes
    if len(sizes) != 3 or any(not isinstance(n, int) or n < 0 for n in sizes):
        raise ConfigError(f"demo sizes must be three counts (train, validation, test), got {sizes!r}")
    texts = _FILE_BUILDERS[task](seed, sizes)
    paths: dict[str, Path] = {}
    for split in SPLITS:
        path = Path(out_dir) / f"{split}.{EXTENSIONS[task]}"
        _write_file(path, texts[split].encode("utf-8"))
        paths[split] = path
    return paths
