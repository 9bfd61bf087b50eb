"""Synonyms from the backbone's own input-embedding space, and the text helpers augmentation shares.

A word's candidates are its nearest neighbours by cosine among the whole-word entries of the
tokenizer's vocabulary, using the rows of the backbone's word-embedding matrix. This needs nothing
beyond the backbone itself, so it works offline and in any language the backbone's vocabulary covers.
The neighbours of an input embedding are a rough notion of synonymy (morphological variants and
related words are common); augmentation only ever replaces a few words per sentence with them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

# Ideographs, kana, CJK symbols and punctuation, full-width forms: one "unit" each in CJK text.
_CJK_CHARS = (
    "\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef\U00020000-\U0002fa1f"
)
CJK_RE = re.compile(f"[{_CJK_CHARS}]")
_IDEOGRAPH_RE = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]")

_STOP_TEXT = """
    a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just me more most
    my myself nor of off on once only or other our ours ourselves out over own same she should so some
    such than that the their theirs them themselves then there these they this those through to too
    under until up very was we were what when where which while who whom why will with would you your
    yours yourself yourselves also get got can't cannot let may might must shall there's i'm it's
    not no never none nothing nobody neither without
    的 了 是 在 和 也 就 都 而 及 与 着 或 一 不 没 无 非 别 我 你 他 她 它 们 这 那 之 其 被 把 吗 呢 吧 啊 很 还 又
"""
_NEGATION_TEXT = "not no never none nothing nobody neither without n't 不 没 无 非 别 未 莫 勿"
STOP_WORDS = frozenset(_STOP_TEXT.split())  # never replaced by a synonym, never offered as one
NEGATIONS = frozenset(_NEGATION_TEXT.split())  # never deleted: removing one can flip the label


def is_cjk(text: str) -> bool:
    """Whether ``text`` contains a CJK character (ideograph, kana, CJK punctuation, full-width form)."""
    return CJK_RE.search(text) is not None


def is_ideograph(ch: str) -> bool:
    """Whether ``ch`` is exactly one CJK ideograph."""
    return len(ch) == 1 and _IDEOGRAPH_RE.match(ch) is not None


def is_whole_word(entry: str, special: Iterable[str] = ()) -> bool:
    """A vocabulary entry worth offering as a synonym: an alphabetic word of 3+ letters or one ideograph;
    no ``##`` continuation pieces, no special tokens."""
    if entry.startswith("##") or entry in set(special):
        return False
    return (entry.isalpha() and len(entry) >= 3 and not is_cjk(entry)) or is_ideograph(entry)


class SynonymSource:
    """Nearest neighbours of words in an embedding space: ``neighbours(word, k)``, cached.

    ``words`` and ``vectors`` (one row per word) are the candidates; any word outside ``words`` has no
    neighbours. Candidates keep to the word's own script (an ideograph gets ideographs, a Latin word
    gets Latin words); stop words are neither asked about nor offered.
    """

    def __init__(
        self,
        words: Sequence[str],
        vectors: Any,
        *,
        stop_words: Iterable[str] = STOP_WORDS,
        min_similarity: float = 0.0,
    ) -> None:
        matrix = np.asarray(vectors, dtype=np.float32)
        if matrix.ndim != 2 or matrix.shape[0] != len(words):
            raise ValueError(f"need one vector per word: {len(words)} words, vectors of shape {matrix.shape}")
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        self.words = list(words)
        self.index = {w: i for i, w in enumerate(self.words)}
        self.matrix = matrix / np.maximum(norms, 1e-12)
        self.ideograph = np.array([is_ideograph(w) for w in self.words], dtype=bool)
        self.stop_words = frozenset(stop_words)
        self.min_similarity = min_similarity
        self._cache: dict[tuple[str, int], tuple[str, ...]] = {}

    @classmethod
    def from_backbone(cls, spec_or_name: Any, **options: Any) -> SynonymSource:
        """Candidates from a backbone (a registry name, a model folder or a ``BackboneSpec``): its
        tokenizer's whole-word vocabulary entries and the matching rows of its word-embedding matrix."""
        from ..models.backbones import BackboneSpec, build_backbone, load_tokenizer, resolve_backbone

        spec = spec_or_name if isinstance(spec_or_name, BackboneSpec) else resolve_backbone(str(spec_or_name))
        tokenizer = load_tokenizer(spec)
        weight = build_backbone(spec).get_input_embeddings().weight.detach().float().cpu().numpy()
        special = set(tokenizer.all_special_tokens)
        pairs = sorted(
            (i, tok)
            for tok, i in tokenizer.get_vocab().items()
            if i < weight.shape[0] and is_whole_word(tok, special)
        )
        return cls([tok for _, tok in pairs], weight[[i for i, _ in pairs]], **options)

    def lookup(self, word: str) -> str | None:
        """The vocabulary entry for ``word`` (as written, else lower-cased), or None."""
        for form in (word, word.lower()):
            if form in self.index and form.lower() not in self.stop_words:
                return form
        return None

    def neighbours(self, word: str, k: int = 5) -> list[str]:
        """Up to ``k`` nearest entries to ``word`` by cosine, best first; [] when ``word`` is not a single
        vocabulary entry or is a stop word."""
        key = (word, k)
        if key not in self._cache:
            self._cache[key] = tuple(self._search(word, k))
        return list(self._cache[key])

    def _search(self, word: str, k: int) -> list[str]:
        entry = self.lookup(word)
        if entry is None or k <= 0:
            return []
        row = self.index[entry]
        sims = self.matrix @ self.matrix[row]
        sims[self.ideograph != self.ideograph[row]] = -np.inf  # keep to the word's script
        sims[row] = -np.inf
        take = min(len(sims), 4 * k + 8)
        best = np.argpartition(-sims, take - 1)[:take] if take < len(sims) else np.arange(len(sims))
        out: list[str] = []
        for i in sorted(best.tolist(), key=lambda j: (-sims[j], j)):
            cand = self.words[i]
            if sims[i] < self.min_similarity or len(out) == k:
                break
            if cand.lower() not in self.stop_words and not _opposite(cand.lower(), entry.lower()):
                out.append(cand)
        return out


def _opposite(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` are the same word, or one is the other with a negating prefix
    (happy/unhappy, like/dislike): embedding neighbours that would flip a sentence's meaning."""
    if a == b:
        return True
    short, long = sorted((a, b), key=len)
    return any(
        long == p + short
        for p in ("un", "in", "im", "il", "ir", "dis", "non", "non-", "mis", "不", "无", "没")
    )
