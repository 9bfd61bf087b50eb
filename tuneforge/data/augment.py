"""Label-preserving augmentation of training examples: seeded, deterministic copies with small edits.

Each copy applies one operation, chosen at random from ``AugmentConfig.operations``, to about
``rate`` of its tokens (at least one):

- ``swap``: exchange two tokens, ``delete``: drop tokens, ``insert``: add a synonym of a word of the
  sentence (or a copy of one, without a synonym source) at a random place;
- ``synonym``: replace words with nearest neighbours in the backbone's input-embedding space;
- ``typo``: character noise (adjacent swap, drop, duplicate, keyboard neighbour) on words of 4+ letters;
- ``mention`` (NER only): replace an entity mention by another mention of the same type from the input.

Text with CJK characters is edited per character (runs of other characters count as one word), so no
whitespace is assumed. For NER every edit except ``mention`` keeps to tokens tagged ``O`` and never
splits an entity, so tags stay aligned and entities unchanged. Negations are never deleted.
Each example's copies depend only on the seed, the example and (for ``mention``) the set of mentions
in the input, not on the order of the examples.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from ..config import AugmentConfig
from ..errors import ConfigError
from ..types import Example
from .synonyms import CJK_RE, NEGATIONS, STOP_WORDS, SynonymSource, is_cjk

__all__ = ["SynonymSource", "augment_examples", "augment_with_operations", "check_operations"]

_ATTEMPTS = 6  # tries per copy before giving up on it (inapplicable operations, duplicates)
_UNIT_RE = re.compile(f"\\s+|{CJK_RE.pattern}|[^\\s{CJK_RE.pattern[1:-1]}]+")
_CORE_RE = re.compile(r"^(\W*)(.*?)(\W*)$", re.DOTALL)
_KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")


@dataclass
class _Draft:
    """The editable form of one example: its tokens (words, or characters in CJK text) and, for NER,
    their tags. ``locked[i]`` marks tokens that edits other than ``mention`` must not touch."""

    tokens: list[str]
    tags: list[str] | None
    locked: list[bool]

    def free(self) -> list[int]:
        return [i for i, lock in enumerate(self.locked) if not lock]

    def can_insert_at(self, i: int) -> bool:
        """Inserting before token ``i`` does not split an entity."""
        return self.tags is None or i == len(self.tags) or not self.tags[i].startswith("I-")


Operation = Callable[[_Draft, random.Random, float, "SynonymSource | None", dict], bool]


# ---------------------------------------------------------------------------------------------- public API


def check_operations(operations: Sequence[str], task: str) -> None:
    """ConfigError when ``operations`` is empty, unknown, or holds ``mention`` for a task without entities."""
    if not operations:
        raise ConfigError("data.augment.operations is empty: name at least one of " + ", ".join(_OPERATIONS))
    unknown = [op for op in operations if op not in _OPERATIONS]
    if unknown:
        raise ConfigError(
            f"unknown augmentation operation(s) {unknown}; choose from {', '.join(_OPERATIONS)}"
        )
    if "mention" in operations and task != "ner":
        raise ConfigError(
            f"augmentation operation 'mention' swaps entity mentions and needs task ner, not {task!r}; "
            "remove it from the operations (data.augment.operations, or --ops)"
        )


def augment_examples(
    examples: Sequence[Example],
    config: AugmentConfig,
    *,
    task: str,
    seed: int,
    synonyms: SynonymSource | None = None,
) -> list[Example]:
    """Only the new examples: up to ``config.copies`` edited copies of each input example, in input order.

    A copy keeps its original's ``label``, ``source``, ``line`` and ``group``; a copy equal to any input
    example or to an earlier copy is not emitted. ``config.enabled`` is the pipeline's switch and is not
    read here. Without ``synonyms`` the ``synonym`` operation cannot apply and another one is used.
    """
    return [
        ex for ex, _ in augment_with_operations(examples, config, task=task, seed=seed, synonyms=synonyms)
    ]


def augment_with_operations(
    examples: Sequence[Example],
    config: AugmentConfig,
    *,
    task: str,
    seed: int,
    synonyms: SynonymSource | None = None,
) -> list[tuple[Example, str]]:
    """As :func:`augment_examples`, with the name of the operation that made each copy."""
    check_operations(config.operations, task)
    ops = list(dict.fromkeys(config.operations))
    context = {"mentions": _mention_pool(examples) if "mention" in ops else {}}
    seen = {_key(ex, task) for ex in examples}
    out: list[tuple[Example, str]] = []
    for ex in examples:
        for copy in range(config.copies):
            rng = random.Random(_stable_seed(seed, _key(ex, task), copy))
            made = _one_copy(ex, task, ops, rng, config.rate, synonyms, context, seen)
            if made is not None:
                seen.add(_key(made[0], task))
                out.append(made)
    return out


# ---------------------------------------------------------------------------------------------- one copy


def _one_copy(
    ex: Example,
    task: str,
    ops: list[str],
    rng: random.Random,
    rate: float,
    synonyms: SynonymSource | None,
    context: dict,
    seen: set,
) -> tuple[Example, str] | None:
    """Try random operations until one changes the example into something new; None after a few tries."""
    for _ in range(_ATTEMPTS):
        order = rng.sample(ops, len(ops))
        for name in order:
            draft = _draft(ex, task)
            if _OPERATIONS[name](draft, rng, rate, synonyms, context):
                new = _rebuild(ex, draft, task)
                if _key(new, task) not in seen:
                    return new, name
                break  # a duplicate: start over with a fresh choice of operation
    return None


def _stable_seed(seed: int, key: object, copy: int) -> int:
    digest = hashlib.blake2b(repr((seed, key, copy)).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def _key(ex: Example, task: str) -> object:
    return tuple(ex.tokens or ()) if task == "ner" else ex.text


def _draft(ex: Example, task: str) -> _Draft:
    if task == "ner":
        tokens, tags = list(ex.tokens or ()), list(ex.tags or ("O",) * len(ex.tokens or ()))
        return _Draft(tokens, tags, [t != "O" for t in tags])
    if is_cjk(ex.text):  # characters and runs of other text; the whitespace between stays where it is
        units = _UNIT_RE.findall(ex.text)
        return _Draft(units, None, [u.isspace() for u in units])
    tokens = ex.text.split()
    return _Draft(tokens, None, [False] * len(tokens))


def _rebuild(ex: Example, draft: _Draft, task: str) -> Example:
    if task == "ner":
        return replace(
            ex,
            text=ex.sep.join(draft.tokens),
            tokens=tuple(draft.tokens),
            tags=tuple(draft.tags or ()),
            spans=None,
        )
    return replace(ex, text=_join_units(draft.tokens))


def _join_units(units: list[str]) -> str:
    """The units concatenated; a space between two adjacent words that are not CJK, runs of whitespace
    (left by deletions) collapsed to one space."""
    out: list[str] = []
    for unit in units:
        prev = out[-1] if out else " "
        if not (unit.isspace() or prev.isspace() or is_cjk(unit) or is_cjk(prev)):
            out.append(" ")
        out.append(unit)
    return re.sub(r"\s+", " ", "".join(out)).strip()


def _how_many(n: int, rate: float) -> int:
    return max(1, round(rate * n))


# ---------------------------------------------------------------------------------------------- operations


def _swap(d: _Draft, rng: random.Random, rate: float, syn: SynonymSource | None, ctx: dict) -> bool:
    free = d.free()
    if len(set(d.tokens[i] for i in free)) < 2:
        return False
    before = list(d.tokens)
    for _ in range(_how_many(len(free), rate)):
        i, j = rng.sample(free, 2)
        d.tokens[i], d.tokens[j] = d.tokens[j], d.tokens[i]
    return d.tokens != before


def _delete(d: _Draft, rng: random.Random, rate: float, syn: SynonymSource | None, ctx: dict) -> bool:
    candidates = [i for i in d.free() if d.can_insert_at(i + 1) and d.tokens[i].lower() not in NEGATIONS]
    room = sum(not t.isspace() for t in d.tokens) - 1  # never delete every word
    if not candidates or room < 1:
        return False
    k = min(_how_many(len(d.free()), rate), len(candidates), room)
    for i in sorted(rng.sample(candidates, k), reverse=True):
        del d.tokens[i], d.locked[i]
        if d.tags is not None:
            del d.tags[i]
    return True


def _insert(d: _Draft, rng: random.Random, rate: float, syn: SynonymSource | None, ctx: dict) -> bool:
    words = [
        d.tokens[i] for i in d.free() if _split_core(d.tokens[i])[1] and d.tokens[i].lower() not in NEGATIONS
    ]
    if not words:
        return False
    for _ in range(_how_many(len(d.free()), rate)):
        word = rng.choice(words)
        prefix, core, suffix = _split_core(word)
        options = syn.neighbours(core, 5) if syn is not None and core else []
        new = _match_case(rng.choice(options), core) if options else core
        places = [i for i in range(len(d.tokens) + 1) if d.can_insert_at(i)]
        at = rng.choice(places)
        d.tokens.insert(at, new)
        d.locked.insert(at, False)
        if d.tags is not None:
            d.tags.insert(at, "O")
    return True


def _synonym(d: _Draft, rng: random.Random, rate: float, syn: SynonymSource | None, ctx: dict) -> bool:
    if syn is None:
        return False
    targets = []
    for i in d.free():
        _, core, _ = _split_core(d.tokens[i])
        if core and core.lower() not in STOP_WORDS and syn.neighbours(core, 5):
            targets.append(i)
    if not targets:
        return False
    for i in rng.sample(targets, min(_how_many(len(d.free()), rate), len(targets))):
        prefix, core, suffix = _split_core(d.tokens[i])
        d.tokens[i] = prefix + _match_case(rng.choice(syn.neighbours(core, 5)), core) + suffix
    return True


def _typo(d: _Draft, rng: random.Random, rate: float, syn: SynonymSource | None, ctx: dict) -> bool:
    targets = [
        i for i in d.free() if len(_split_core(d.tokens[i])[1]) >= 4 and _split_core(d.tokens[i])[1].isalpha()
    ]
    targets = [i for i in targets if not is_cjk(d.tokens[i]) and d.tokens[i].lower() not in NEGATIONS]
    if not targets:
        return False
    before = list(d.tokens)
    for i in rng.sample(targets, min(_how_many(len(d.free()), rate), len(targets))):
        prefix, core, suffix = _split_core(d.tokens[i])
        d.tokens[i] = prefix + _misspell(core, rng) + suffix
    return d.tokens != before


def _mention(d: _Draft, rng: random.Random, rate: float, syn: SynonymSource | None, ctx: dict) -> bool:
    spans = _entity_spans(d.tags or [])
    pool: dict[str, list[tuple[str, ...]]] = ctx.get("mentions", {})
    choices = [(s, e, t) for s, e, t in spans if any(m != tuple(d.tokens[s:e]) for m in pool.get(t, []))]
    if not choices:
        return False
    start, end, type_ = rng.choice(choices)
    current = tuple(d.tokens[start:end])
    new = rng.choice([m for m in pool[type_] if m != current])
    d.tokens[start:end] = list(new)
    d.locked[start:end] = [True] * len(new)
    assert d.tags is not None
    d.tags[start:end] = ["B-" + type_] + ["I-" + type_] * (len(new) - 1)
    return True


_OPERATIONS: dict[str, Operation] = {
    "swap": _swap,
    "delete": _delete,
    "insert": _insert,
    "synonym": _synonym,
    "typo": _typo,
    "mention": _mention,
}


# ---------------------------------------------------------------------------------------------- helpers


def _split_core(token: str) -> tuple[str, str, str]:
    """``'"card?'`` -> ``('"', 'card', '?')``: leading punctuation, the word, trailing punctuation."""
    m = _CORE_RE.match(token)
    assert m is not None
    return m.group(1), m.group(2), m.group(3)


def _match_case(word: str, like: str) -> str:
    if like.isupper() and len(like) > 1:
        return word.upper()
    return word[:1].upper() + word[1:] if like[:1].isupper() else word


def _keyboard_neighbours(ch: str) -> str:
    for r, row in enumerate(_KEYBOARD_ROWS):
        c = row.find(ch.lower())
        if c >= 0:
            near = row[max(c - 1, 0) : c] + row[c + 1 : c + 2]
            near += "".join(
                other[c] for other in _KEYBOARD_ROWS[max(r - 1, 0) : r + 2] if other != row and c < len(other)
            )
            return near.upper() if ch.isupper() else near
    return ""


def _misspell(word: str, rng: random.Random) -> str:
    """One character-level typo inside ``word`` (its first letter is kept)."""
    for _ in range(8):
        kind = rng.choice(("swap", "drop", "double", "key"))
        i = rng.randrange(1, len(word))
        if kind == "swap" and i + 1 < len(word):
            out = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        elif kind == "drop":
            out = word[:i] + word[i + 1 :]
        elif kind == "double":
            out = word[:i] + word[i] + word[i:]
        else:
            near = _keyboard_neighbours(word[i])
            out = word[:i] + rng.choice(near) + word[i + 1 :] if near else word
        if out != word:
            return out
    return word[:1] + word[1:][::-1] if word[1:] != word[1:][::-1] else word + word[-1]


def _entity_spans(tags: Sequence[str]) -> list[tuple[int, int, str]]:
    """``(start, end, type)`` of each entity in BIO tags (an I- after another type starts a new one)."""
    spans: list[tuple[int, int, str]] = []
    for i, tag in enumerate(tags):
        if tag == "O":
            continue
        prefix, type_ = tag[:1], tag[2:]
        if prefix == "I" and spans and spans[-1][1] == i and spans[-1][2] == type_:
            spans[-1] = (spans[-1][0], i + 1, type_)
        else:
            spans.append((i, i + 1, type_))
    return spans


def _mention_pool(examples: Sequence[Example]) -> dict[str, list[tuple[str, ...]]]:
    """Every distinct mention of each entity type in the input, sorted (independent of example order)."""
    pool: dict[str, set[tuple[str, ...]]] = {}
    for ex in examples:
        for start, end, type_ in _entity_spans(ex.tags or ()):
            pool.setdefault(type_, set()).add(tuple((ex.tokens or ())[start:end]))
    return {t: sorted(ms) for t, ms in sorted(pool.items())}
