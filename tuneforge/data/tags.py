"""Tag schemes for token classification: detect IOB1/IOB2/BIOES/BMES/IO and convert to BIO (IOB2)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

SCHEMES = ("IOB2", "IOB1", "BIOES", "BMES", "IO")
_ALIASES = {"BIO": "IOB2", "IOB": "IOB1", "BILOU": "BIOES", "IOBES": "BIOES", "BMEWO": "BMES"}
_PREFIXES = frozenset("BIEMSLU")
# Prefix of each scheme -> its BIO prefix: entity starts map to B, continuations and ends to I.
_TO_BIO = {"B": "B", "I": "I", "M": "I", "E": "I", "L": "I", "S": "B", "U": "B"}


def split_tag(tag: str) -> tuple[str, str | None]:
    """``"B-PER"`` -> ``("B", "PER")``; ``"O"`` -> ``("O", None)``; ValueError when malformed."""
    if tag == "O":
        return "O", None
    prefix, dash, type_ = tag.partition("-")
    if not dash or prefix not in _PREFIXES or not type_ or type_.strip() != type_:
        raise ValueError(f"malformed tag {tag!r}: expected 'O' or PREFIX-TYPE such as 'B-PER' or 'I-LOC'")
    return prefix, type_


def detect_scheme(tags: Iterable[str]) -> str:
    """Scheme of a whole file's tags: ``"IOB2"``, ``"IOB1"``, ``"BIOES"``, ``"BMES"`` or ``"IO"``.

    Put an ``"O"`` between sentences so that a sentence-initial tag is seen as starting an entity.
    """
    prefixes: set[str] = set()
    i_starts = b_after_outside = False
    prev: tuple[str, str | None] = ("O", None)
    for tag in tags:
        cur = split_tag(tag)
        prefixes.add(cur[0])
        starts = prev[0] == "O" or prev[1] != cur[1]
        if cur[0] == "I" and starts:
            i_starts = True
        elif cur[0] == "B" and starts:
            b_after_outside = True
        prev = cur
    if "M" in prefixes:
        return "BMES"
    if prefixes & {"E", "S", "L", "U"}:
        return "BIOES"
    if "B" not in prefixes:
        return "IO" if "I" in prefixes else "IOB2"
    return "IOB1" if i_starts and not b_after_outside else "IOB2"


def to_bio(tags: Sequence[str], scheme: str | None = None) -> list[str]:
    """Convert ``tags`` (IOB1, IOB2, BIOES/BILOU, BMES or IO) to IOB2; IOB2 input comes back unchanged.

    Pass the ``scheme`` detected over the whole file; without it, it is detected from ``tags`` alone.
    """
    name = (scheme or detect_scheme(tags)).upper()
    name = _ALIASES.get(name, name)
    if name not in SCHEMES:
        raise ValueError(f"unknown tag scheme {scheme!r}: expected one of {', '.join(SCHEMES)}")
    parts = [split_tag(t) for t in tags]
    if name == "IOB2" and all(p in ("O", "B", "I") for p, _ in parts):
        return list(tags)
    return repair_bio(tags)


def repair_bio(tags: Sequence[str]) -> list[str]:
    """Lenient BIO: an I-X that follows O or another type becomes B-X (E/M/L map to I, S/U to B)."""
    out: list[str] = []
    prev_type: str | None = None
    for tag in tags:
        prefix, type_ = split_tag(tag)
        if type_ is None:
            out.append("O")
        else:
            bio = _TO_BIO[prefix]
            if bio == "I" and prev_type != type_:
                bio = "B"
            out.append(f"{bio}-{type_}")
        prev_type = type_
    return out


def bio_spans(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """Entities as ``(type, token_start, token_end_exclusive)``, decoded leniently (after repair_bio)."""
    spans: list[tuple[str, int, int]] = []
    start, current = 0, None
    for i, tag in enumerate(repair_bio(tags)):
        prefix, type_ = split_tag(tag)
        if current is not None and (prefix != "I" or type_ != current):
            spans.append((current, start, i))
            current = None
        if prefix == "B":
            start, current = i, type_
    if current is not None:
        spans.append((current, start, len(tags)))
    return spans
