"""Text checks: Unicode normalisation, empty / too short / too long texts, and the keys duplicates use."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace

from ...types import Example

_SPACE_RE = re.compile(r"\s+")
_CJK_RE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def clean_text(text: str) -> str:
    """NFKC, control and format characters dropped (tabs/newlines become spaces), whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text)
    chars = []
    for ch in text:
        cat = unicodedata.category(ch)
        if ch in "\t\n\r\x0b\x0c":
            chars.append(" ")
        elif cat in ("Cc", "Cf", "Co", "Cs"):
            continue
        else:
            chars.append(ch)
    return _SPACE_RE.sub(" ", "".join(chars)).strip()


def normalize_example(ex: Example) -> Example:
    """The example with clean text (NER: clean tokens; a token that would vanish is kept as it was)."""
    if ex.tokens is None:
        return replace(ex, text=clean_text(ex.text))
    tokens = tuple(clean_text(t) or t for t in ex.tokens)
    if tokens == ex.tokens:
        return ex
    return replace(ex, tokens=tokens, text=ex.sep.join(tokens), spans=None)


def is_cjk(text: str) -> bool:
    """True when at least a third of the non-space characters are CJK."""
    chars = [c for c in text if not c.isspace()]
    return bool(chars) and sum(1 for c in chars if _CJK_RE.match(c)) * 3 >= len(chars)


def dedup_key(text: str) -> str:
    """What makes two texts "the same": case-folded, whitespace collapsed, after NFKC."""
    return _SPACE_RE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def label_key(ex: Example) -> object:
    """The label of an example in a hashable form (NER: its tag tuple)."""
    if ex.tokens is not None:
        return tuple(ex.tags or ())
    return ex.label


def length_in_chars(ex: Example) -> int:
    return len(ex.text.strip())
