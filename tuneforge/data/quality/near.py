"""Near-duplicate pairs: MinHash signatures over character n-grams, banded LSH, exact Jaccard check.

Character n-grams (4 for alphabetic scripts, 2 for CJK) work without word boundaries, so the same
code finds near-duplicates in Chinese. Candidate pairs from the LSH bands are confirmed with the exact
Jaccard similarity of their n-gram sets, so the threshold is a real similarity, not an estimate.
"""

from __future__ import annotations

import unicodedata
import zlib
from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from .text import dedup_key, is_cjk

_PRIME = np.uint64((1 << 61) - 1)
_MAX32 = np.uint64(0xFFFFFFFF)


def _strip_punct(text: str) -> str:
    return "".join(c for c in text if not unicodedata.category(c).startswith("P"))


def shingles(text: str) -> frozenset[int]:
    """Hashed character n-grams of the case-folded text without punctuation."""
    key = _strip_punct(dedup_key(text))
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


def near_pairs(
    texts: Sequence[str], threshold: float, *, num_perm: int = 64, bands: int = 16
) -> list[tuple[int, int, float]]:
    """``(i, j, jaccard)`` with ``i < j`` for every pair of texts at least ``threshold`` similar."""
    grams = [shingles(t) for t in texts]
    hasher = MinHasher(num_perm)
    sig = np.stack([hasher.signature(g) for g in grams]) if grams else np.zeros((0, num_perm))
    out = []
    for i, j in sorted(candidate_pairs(sig, bands)):
        sim = jaccard(grams[i], grams[j])
        if sim >= threshold:
            out.append((i, j, round(sim, 4)))
    return out


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
