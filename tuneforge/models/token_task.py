"""Token classification (NER): labels on the first sub-token of each word, BIO decoding to entity
spans with character offsets (also for Chinese, where every character is a word)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..types import Entity, Example, Prediction
from .bio_decode import DECODINGS, decode_bio, word_probabilities
from .heads import TokenHead
from .tasks import IGNORE, Task, _pad, register_task


def tag_set(types: set[str]) -> list[str]:
    """The complete IOB2 tag list for the entity types: O first, then B-/I- of each type."""
    return ["O"] + [f"{p}-{t}" for t in sorted(types) for p in ("B", "I")]


class TokenClassificationTask(Task):
    name = "ner"
    primary_metric = "f1"
    decoding = "viterbi"  # see bio_decode: viterbi | lenient | strict
    metrics = ("f1", "precision", "recall", "macro_f1", "token_accuracy")
    # Per-word tagging learns more slowly at the classification rates: on CoNLL-2003 short fixed
    # schedules score clearly higher at 2-3x, and the default recipe as well at 2x, in less time
    # (BENCHMARKS.md, "Methods").
    lr_scale = 2.0

    def label_list(self, examples: Sequence[Example]) -> list[str]:
        types = {tag[2:] for ex in examples for tag in (ex.tags or ()) if tag != "O"}
        return tag_set(types)

    def _labels_of(self, ex: Example) -> list[str]:
        return list(ex.tags or ())

    def encode(self, examples, tokenizer, label2id, max_length):
        enc = tokenizer(
            [list(ex.tokens or ()) for ex in examples],
            is_split_into_words=True,
            truncation=True,
            max_length=max_length,
        )
        feats = []
        for i, ex in enumerate(examples):
            word_ids = enc.word_ids(i)
            # sub-token position of each word's first piece (-1: cut off by truncation, or no piece)
            first = [-1] * len(ex.tokens or ())
            for pos, w in enumerate(word_ids):
                if w is not None and first[w] < 0:
                    first[w] = pos
            f: dict[str, Any] = {"input_ids": enc["input_ids"][i], "word_starts": first}
            if ex.tags is not None:
                labels = [IGNORE] * len(word_ids)
                for w, pos in enumerate(first):
                    if pos >= 0:
                        labels[pos] = label2id[ex.tags[w]]
                f["labels"] = labels
            feats.append(f)
        return feats

    def placeholder_target(self, feat, n_labels):
        """Tag 0 on each word's first sub-token, so the loss mask covers the words the soft targets
        are placed on."""
        labels = [IGNORE] * len(feat["input_ids"])
        for pos in feat["word_starts"]:
            if pos >= 0:
                labels[pos] = 0
        return labels

    def _collate_labels(self, feats):
        return _pad([f["labels"] for f in feats], IGNORE)

    def _collate_soft(self, feats, width):
        """Per-word soft targets placed on each word's first sub-token (zeros elsewhere, masked out)."""
        n = len(feats[0]["soft_targets"][0]) if feats[0]["soft_targets"] else 1
        out = torch.zeros((len(feats), width, n))
        for b, f in enumerate(feats):
            for pos, row in zip(f["word_starts"], f["soft_targets"], strict=True):
                if 0 <= pos < width:
                    out[b, pos] = torch.as_tensor(row)
        return out

    def build_head(
        self, hidden: int, n_labels: int, pooling: str, dropout: float, normalize: bool = False
    ) -> nn.Module:
        return TokenHead(hidden, n_labels, dropout=dropout)

    def loss(self, logits, batch, class_weights=None, label_smoothing=0.0):
        labels = batch["labels"]
        per_tok = F.cross_entropy(
            logits.float().transpose(1, 2),
            labels,
            weight=class_weights,
            ignore_index=IGNORE,
            label_smoothing=label_smoothing,
            reduction="none",
        )
        per_tok = self._distilled(logits, batch, per_tok)
        weight = batch.get("weight")
        mask = (labels != IGNORE).float()
        if weight is not None:
            mask = mask * weight.to(mask.device).unsqueeze(1)
        return (per_tok * mask).sum() / mask.sum().clamp(min=1e-12)

    def loss_units(self, feat):
        return sum(1 for x in feat["labels"] if x != IGNORE)

    def class_counts(self, feats, n_labels):
        counts = Counter(x for f in feats for x in f["labels"] if x != IGNORE)
        return torch.tensor([counts.get(i, 0) for i in range(n_labels)], dtype=torch.float)

    def configure(self, meta: dict[str, Any]) -> TokenClassificationTask:
        decoding = meta.get("ner_decoding") or self.decoding
        if decoding not in DECODINGS:
            from ..errors import ConfigError

            raise ConfigError(f"unknown NER decoding {decoding!r}; expected one of {', '.join(DECODINGS)}")
        self.decoding = decoding
        return self

    def decode(self, probs, feats, examples, id2label, threshold=0.5):
        from ..data.tags import bio_spans

        tags_of = list(id2label)
        out = []
        for row, f, ex in zip(probs, feats, examples, strict=True):
            row = row.float().numpy() if isinstance(row, torch.Tensor) else row
            words = word_probabilities(row, f["word_starts"], tags_of)
            tags = decode_bio(words, tags_of, self.decoding)
            scores = [float(words[w, tags_of.index(t)]) for w, t in enumerate(tags)]
            offsets = ex.token_offsets()
            ents = []
            for etype, s, e in bio_spans(tags):
                start, end = offsets[s][0], offsets[e - 1][1]
                ents.append(
                    Entity(
                        type=etype,
                        start=start,
                        end=end,
                        text=ex.text[start:end],
                        token_start=s,
                        token_end=e,
                        score=round(sum(scores[s:e]) / (e - s), 6),
                    )
                )
            out.append(Prediction(tags=tags, entities=ents))
        return out

    def gold(self, ex: Example) -> Any:
        return list(ex.tags or ())

    def predicted(self, pred: Prediction) -> Any:
        return pred.tags

    def probe_targets(self, feats):
        return self._collate_labels(feats)


register_task("ner", TokenClassificationTask)
