"""Near-duplicate pairs: MinHash signatures over character n-grams, banded LSH, exact Jaccard check;
plus, for short texts, one-edit neighbours.

Character n-grams (4 for alphabetic scripts, 2 for CJK) work without word boundaries, so the same
code finds near-duplicates in Chinese. Candidate pairs from the LSH bands are confirmed with the exact
Jaccard similarity of their n-gram sets, so the threshold is a real similarity, not an estimate.
One typo in a text of a few characters ("Suqad :" / "Squad :") moves most of its n-grams, so texts of
at most ``SHORT`` characters are also paired when they are one edit apart (found through their
one-deletion variants), unless the edit only changes digits ("Extras 8" / "Extras 9").
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from .labels import edit_distance
from .text import dedup_key, is_cjk

SHORT = 25
_DIGIT_RE = re.compile(r"\d")

_PRIME = np.uint64((1 << 61) - 1)
_MAX32 = np.uint64(0xFFFFFFFF)


def _strip_punct(text: str) -> str:
    return "".join(c for c in text if not unicodedata.category(c).startswith("P"))


def near_key(text: str) -> str:
    """The text near-duplicate detection compares: case-folded, no punctuation, single spaces."""
    return " ".join(_strip_punct(dedup_key(text)).split())


def shingles(text: str) -> frozenset[int]:
    """Hashed character n-grams of the case-folded text without punctuation."""
    key = near_key(text)
    n = 2 if is_cjk(key) else 4
    grams = [key[i : i + n] for i in range(len(key) - n + 1)] if len(key) > n else [key] * bool(key)
    return frozenset(zlib.crc32(g.encode("utf-8")) for g in grams)


def jaccard(a: frozenset[int], b: frozenset[int]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


class MinHasher:
    """``num_perm`` universal hash functions ``(a*x + b) mod p``; the signature keeps each minimum."""

    def __init__(self, num_perm: int = 64, seed: int = 1) -> None:
        rng = np.random.default_rng(seed)
        self.a = rng.integers(1, (1 << 61) - 1, size=num_perm, dtype=np.uint64)
        self.b = rng.integers(0, (1 << 61) - 1, size=num_perm, dtype=np.uint64)

    def signature(self, grams: frozenset[int]) -> np.ndarray:
        if not grams:
            return np.full(len(self.a), _MAX32, dtype=np.uint64)
        x = np.fromiter(grams, dtype=np.uint64, count=len(grams))
        # products wrap modulo 2**64 (numpy's unsigned overflow); still a family of fast, seeded hashes
        with np.errstate(over="ignore"):
            h = (np.outer(self.a, x) + self.b[:, None]) % _PRIME
        return (h & _MAX32).min(axis=1)


def candidate_pairs(signatures: np.ndarray, bands: int) -> set[tuple[int, int]]:
    """Pairs of rows whose signatures agree on every value of at least one band."""
    rows = signatures.shape[1] // bands
    pairs: set[tuple[int, int]] = set()
    for band in range(bands):
        buckets: dict[bytes, list[int]] = defaultdict(list)
        chunk = signatures[:, band * rows : (band + 1) * rows]
        for i, row in enumerate(chunk):
            buckets[row.tobytes()].append(i)
        for members in buckets.values():
            if 1 < len(members) <= 200:  # a huge bucket is boilerplate; its members pair in other bands
                for x in range(len(members)):
                    for y in range(x + 1, len(members)):
                        pairs.add((members[x], members[y]))
    return pairs


def one_edit_pairs(keys: Sequence[str]) -> dict[tuple[int, int], float]:
    """Short keys one edit (insert, delete, replace, swap of neighbours) apart, with ``1 - 1/length``."""
    buckets: dict[str, list[int]] = defaultdict(list)
    for i, key in enumerate(keys):
        if 3 <= len(key) <= SHORT:
            for variant in {key} | {key[:p] + key[p + 1 :] for p in range(len(key))}:
                buckets[variant].append(i)
    out: dict[tuple[int, int], float] = {}
    for members in buckets.values():
        if not 1 < len(members) <= 50:
            continue
        for x, i in enumerate(members):
            for j in members[x + 1 :]:
                a, b = keys[i], keys[j]
                if (i, j) in out or a == b or _DIGIT_RE.sub("#", a) == _DIGIT_RE.sub("#", b):
                    continue
                if edit_distance(a, b) == 1:
                    out[(min(i, j), max(i, j))] = round(1 - 1 / max(len(a), len(b)), 4)
    return out


def near_pairs(
    texts: Sequence[str], threshold: float, *, num_perm: int = 64, bands: int = 16
) -> list[tuple[int, int, float]]:
    """``(i, j, similarity)`` with ``i < j`` for every pair of texts at least ``threshold`` similar
    (character n-gram Jaccard), or short and one edit apart."""
    grams = [shingles(t) for t in texts]
    hasher = MinHasher(num_perm)
    sig = np.stack([hasher.signature(g) for g in grams]) if grams else np.zeros((0, num_perm))
    found: dict[tuple[int, int], float] = {}
    for i, j in candidate_pairs(sig, bands):
        sim = jaccard(grams[i], grams[j])
        if sim >= threshold:
            found[(i, j)] = round(sim, 4)
    for pair, sim in one_edit_pairs([near_key(t) for t in texts]).items():
        found[pair] = max(found.get(pair, 0.0), sim)
    return [(i, j, sim) for (i, j), sim in sorted(found.items())]


def embedding_pairs(vectors: np.ndarray, threshold: float, block: int = 2048) -> list[tuple[int, int, float]]:
    """``(i, j, cosine)`` with ``i < j`` for rows of L2-normalised ``vectors`` at least ``threshold`` close."""
    out = []
    n = len(vectors)
    for start in range(0, n, block):
        sims = vectors[start : start + block] @ vectors.T
        for r, c in zip(*np.nonzero(sims >= threshold), strict=True):
            i, j = start + int(r), int(c)
            if i < j:
                out.append((i, j, round(float(sims[r, c]), 4)))
    return out


class UnionFind:
    """Groups of rows joined by pairs; ``root`` is the smallest index of a group."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def root(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def join(self, i: int, j: int) -> None:
        a, b = self.root(i), self.root(j)
        if a != b:
            self.parent[max(a, b)] = min(a, b)
