"""Annotation-tool formats: Label Studio JSON and Doccano JSON lines, read and written for
classification, multi-label and NER.

* **Label Studio**: a JSON list of tasks, ``{"data": {"text": ...}, "annotations": [{"result": [...]}],
  "predictions": [...]}``; a result item is ``choices`` (classification, multi-label) or ``labels`` (a
  character span ``start``/``end`` with its entity type). Controls are named ``label`` (from) and
  ``text`` (to); :func:`labelstudio_config` writes the matching labeling interface.
* **Doccano**: one object a line, ``{"text": ..., "label": ["pos"]}`` for classification and
  ``{"text": ..., "label": [[start, end, "TYPE"], ...]}`` for NER (the older ``entities`` key, with
  lists or ``start_offset``/``end_offset``/``label`` objects, is read too).

NER spans become tokens and BIO tags (:func:`spans_to_example`). Tokens are the text's whitespace-
separated words, or its characters when most of it is CJK; a whitespace word is split further where a
span starts or ends at a punctuation mark or a CJK character inside it (``Paris.`` with the span on
``Paris``), never between two letters or digits. A span that still cuts a token, that overlaps
another, or that lies outside the text is a DataError naming the file, the task (Label Studio) or line
(Doccano) and the span.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

from ..errors import ConfigError, DataError, did_you_mean
from ..io import atomic_write_text
from ..types import Example
from .tags import bio_spans

FORMATS = ("labelstudio", "doccano")
Span = tuple[int, int, str]
Value = str | tuple[str, ...] | list[Span]  # a label, a label tuple (multi-label) or entity spans (NER)
_CJK = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\U00020000-\U0002fa1f]")
_WORD = re.compile(r"\S+")


@dataclass
class Imported:
    """Examples read from an annotation export, and what was not an annotation."""

    examples: list[Example] = field(default_factory=list)
    skipped: int = 0  # tasks the annotator skipped (Label Studio: cancelled annotations)
    unannotated: int = 0  # tasks or lines with no annotation at all
    ignored_results: int = 0  # result items of other kinds (relations, text areas, ...)


def check_format(format: str) -> str:
    if format not in FORMATS:
        raise ConfigError(f"unknown annotation format {format!r}; use one of: {', '.join(FORMATS)}.")
    return format


# ---------------------------------------------------------------------------------------------- NER spans


def is_cjk(text: str) -> bool:
    """Most of the non-space characters are CJK: then every character is a token."""
    chars = [c for c in text if not c.isspace()]
    return bool(chars) and 2 * sum(1 for c in chars if _CJK.match(c)) >= len(chars)


def _splittable(left: str, right: str) -> bool:
    """A token may be cut between these two characters unless both are letters/digits (not CJK)."""

    def word(c: str) -> bool:
        return (c.isalnum() or c == "_") and not _CJK.match(c)

    return not (word(left) and word(right))


def tokenize(text: str, cuts: Sequence[int] = ()) -> list[tuple[int, int]]:
    """Character offsets of the tokens of ``text``; whitespace words are also cut at the positions in
    ``cuts`` (span edges) where :func:`_splittable` allows it."""
    if is_cjk(text):
        return [(i, i + 1) for i, c in enumerate(text) if not c.isspace()]
    out = []
    for m in _WORD.finditer(text):
        start = m.start()
        for cut in sorted(c for c in set(cuts) if m.start() < c < m.end()):
            if _splittable(text[cut - 1], text[cut]):
                out.append((start, cut))
                start = cut
        out.append((start, m.end()))
    return out


@dataclass(frozen=True)
class Where:
    """Where an annotation is, for error messages: the file, its line (JSONL) or task number (JSON)."""

    file: str = ""
    line: int | None = None
    task: str = ""  # e.g. "task 3 (id 17)"

    def err(self, msg: str, hint: str | None = None) -> DataError:
        return DataError(
            f"{self.task}: {msg}" if self.task else msg, file=self.file, line=self.line, hint=hint
        )


def _span_error(where: Where, span: Any, text: str, msg: str, hint: str) -> DataError:
    shown = f"[{span[0]}, {span[1]}) {text[span[0] : span[1]]!r}" if _is_span(span, text) else repr(span)
    return where.err(f"span {shown} {msg}", hint)


def _is_span(span: Any, text: str) -> bool:
    return isinstance(span[0], int) and isinstance(span[1], int) and 0 <= span[0] < span[1] <= len(text)


def _clean_spans(text: str, spans: Sequence[Span], where: Where) -> list[Span]:
    """Spans checked for range and overlap, with surrounding whitespace trimmed, sorted by start."""
    out: list[Span] = []
    for span in spans:
        start, end, etype = span
        if not _is_span(span, text):
            hint = f"offsets are characters of the text (0 to {len(text)}), start before end"
            raise _span_error(where, span, text, "is out of range", hint)
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start == end:
            raise _span_error(where, span, text, "covers only whitespace", "delete the span")
        if not isinstance(etype, str) or not etype.strip() or " " in etype.strip():
            raise _span_error(where, span, text, f"has a bad entity type {etype!r}", "use types like PER")
        out.append((start, end, etype.strip()))
    out.sort()
    for a, b in zip(out, out[1:], strict=False):
        if b[0] < a[1]:
            hint = f"it overlaps [{a[0]}, {a[1]}) {text[a[0] : a[1]]!r}; BIO tags cannot nest: keep one"
            raise _span_error(where, b, text, "overlaps another span", hint)
    return out


def spans_to_example(
    text: str, spans: Sequence[Span], where: Where = Where(), source: str = "", line: int = 0
) -> Example:
    """An NER example (tokens, BIO tags, token offsets) from a text and its character spans."""
    clean = _clean_spans(text, spans, where)
    offsets = tokenize(text, [p for s in clean for p in s[:2]])
    starts = {s: i for i, (s, _) in enumerate(offsets)}
    ends = {e: i for i, (_, e) in enumerate(offsets)}
    tags = ["O"] * len(offsets)
    for span in clean:
        if span[0] not in starts or span[1] not in ends:
            edge = span[0] if span[0] not in starts else span[1]
            tok = next(text[s:e] for s, e in offsets if s <= edge <= e)
            hint = "tokens are split at whitespace (and at punctuation next to a span); cover whole words"
            raise _span_error(where, span, text, f"does not align with the token {tok!r}", hint)
        first, last = starts[span[0]], ends[span[1]]
        tags[first : last + 1] = [f"B-{span[2]}"] + [f"I-{span[2]}"] * (last - first)
    return Example(
        text=text,
        tokens=tuple(text[s:e] for s, e in offsets),
        tags=tuple(tags),
        sep="" if is_cjk(text) else " ",
        spans=tuple(offsets),
        source=source,
        line=line,
    )


def entity_spans(ex: Example) -> list[Span]:
    """Character spans ``(start, end, type)`` of an NER example's BIO tags."""
    offsets = ex.token_offsets()
    return [(offsets[s][0], offsets[e - 1][1], t) for t, s, e in bio_spans(list(ex.tags or ()))]


def value_of(ex: Example, task: str) -> Value | None:
    """The annotation of a labelled example: its label, labels or entity spans."""
    if task == "ner":
        return entity_spans(ex)
    if task == "multilabel":
        return tuple(ex.label or ()) if not isinstance(ex.label, str) else (ex.label,)
    return ex.label if isinstance(ex.label, str) else None


# ---------------------------------------------------------------------------------------------- writing


def labelstudio_result(value: Value, text: str) -> list[dict[str, Any]]:
    """Label Studio result items for a label, a label tuple or entity spans."""
    base = {"from_name": "label", "to_name": "text"}
    if isinstance(value, list):
        return [
            {"id": f"r{n}", **base, "type": "labels",
             "value": {"start": s, "end": e, "text": text[s:e], "labels": [t]}}
            for n, (s, e, t) in enumerate(value, 1)
        ]  # fmt: skip
    choices = [value] if isinstance(value, str) else list(value)
    return [{**base, "type": "choices", "value": {"choices": choices}}] if choices else []


def doccano_label(value: Value) -> list[Any]:
    """Doccano's ``label`` field: a list of strings, or of ``[start, end, type]`` spans."""
    if isinstance(value, list):
        return [[s, e, t] for s, e, t in value]
    return [value] if isinstance(value, str) else list(value)


def render_annotations(examples: Sequence[Example], format: str, task: str) -> str:
    """The text of a Label Studio JSON or Doccano JSONL file holding ``examples``' annotations."""
    check_format(format)
    if format == "labelstudio":
        tasks = []
        for ex in examples:
            value = value_of(ex, task)
            result = labelstudio_result(value, ex.text) if value is not None else []
            tasks.append({"data": {"text": ex.text}, "annotations": [{"result": result}]})
        return json.dumps(tasks, ensure_ascii=False, indent=2) + "\n"
    lines = []
    for ex in examples:
        value = value_of(ex, task)
        row = {"text": ex.text, "label": doccano_label(value) if value is not None else []}
        lines.append(json.dumps(row, ensure_ascii=False) + "\n")
    return "".join(lines)


def write_annotations(path: str | Path, examples: Sequence[Example], format: str, task: str) -> Path:
    atomic_write_text(path, render_annotations(examples, format, task))
    return Path(path)


def labelstudio_config(task: str, labels: Sequence[str]) -> str:
    """The Label Studio labeling interface (XML) that matches the files tuneforge writes."""
    if task == "ner":
        items = "".join(f"    <Label value={quoteattr(lab)}/>\n" for lab in labels)
        return f'<View>\n  <Labels name="label" toName="text">\n{items}  </Labels>\n  <Text name="text" value="$text"/>\n</View>\n'
    choice = "multiple" if task == "multilabel" else "single"
    items = "".join(f"    <Choice value={quoteattr(lab)}/>\n" for lab in labels)
    return (
        f'<View>\n  <Text name="text" value="$text"/>\n'
        f'  <Choices name="label" toName="text" choice="{choice}">\n{items}  </Choices>\n</View>\n'
    )


# ---------------------------------------------------------------------------------------------- reading


def read_annotations(path: str | Path, format: str, task: str, *, keep_empty: bool = False) -> Imported:
    """Annotated examples from a Label Studio JSON export or a Doccano JSONL export.

    ``keep_empty`` (Doccano NER): keep lines without spans as sentences with no entities; by default they
    count as unannotated, because Doccano exports unannotated texts with an empty label list."""
    check_format(format)
    if task not in ("classification", "multilabel", "ner"):
        hint = did_you_mean(task, ("classification", "multilabel", "ner"))
        raise ConfigError(f"unknown task {task!r}; use classification, multilabel or ner.{hint}")
    path = Path(path)
    if not path.is_file():
        raise DataError("the file does not exist", file=str(path), hint="check the path")
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise DataError("not UTF-8 text", file=str(path), hint="export the annotations again") from None
    if format == "labelstudio":
        return _read_labelstudio(raw, str(path), task)
    return _read_doccano(raw, str(path), task, keep_empty)


def _read_labelstudio(raw: str, file: str, task: str) -> Imported:
    hint = "export the project from Label Studio as JSON (a list of tasks)"
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise DataError(f"not valid JSON: {exc.msg}", file=file, line=exc.lineno, hint=hint) from None
    data = [data] if isinstance(data, dict) else data
    if not isinstance(data, list):
        raise DataError("expected a JSON list of tasks", file=file, hint=hint)
    out = Imported()
    for n, item in enumerate(data, 1):
        ident = f" (id {item['id']})" if isinstance(item, dict) and "id" in item else ""
        where = Where(file, None, f"task {n}{ident}")
        text = _ls_text(item, where)
        annotations = item.get("annotations", item.get("completions")) or []
        live = [a for a in annotations if isinstance(a, dict) and not a.get("was_cancelled")]
        if not live:
            out.skipped += bool(annotations)
            out.unannotated += not annotations
            continue
        result = live[-1].get("result") or []  # the latest annotation wins
        if not isinstance(result, list):
            raise where.err("'result' of the annotation is not a list", hint)
        ex = _ls_example(text, result, task, where, out)
        if ex is None:
            out.unannotated += 1
        else:
            out.examples.append(replace(ex, source=file, line=n))
    return out


def _ls_text(item: Any, where: Where) -> str:
    data = item.get("data") if isinstance(item, dict) else None
    if not isinstance(data, dict):
        raise where.err("a task is an object with a 'data' object", 'write it like {"data": {"text": "..."}}')
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        fields = ", ".join(repr(k) for k in data) or "none"
        hint = f"name the text field 'text' ($text in the labeling config).{did_you_mean('text', list(data))}"
        raise where.err(f"no non-empty 'text' in the task's data (fields: {fields})", hint)
    return text


def _ls_example(text: str, result: list[Any], task: str, where: Where, out: Imported) -> Example | None:
    wanted = "labels" if task == "ner" else "choices"
    items = [r for r in result if isinstance(r, dict) and r.get("type") == wanted]
    out.ignored_results += len(result) - len(items)
    values = [r.get("value") if isinstance(r.get("value"), dict) else {} for r in items]
    if task != "ner":
        other = any(isinstance(r, dict) and r.get("type") == "labels" for r in result)
        if other and not items:
            raise where.err("has entity spans but no choices", "use --task ner for span annotations")
        return _choice_example(text, [c for v in values for c in v.get("choices") or []], task, where)
    spans = []
    for v in values:
        labels = v.get("labels") or []
        span = (v.get("start"), v.get("end"), labels[0] if len(labels) == 1 else labels)
        if len(labels) != 1:
            raise _span_error(where, span, text, f"has {len(labels)} labels", "give each span one type")
        if _is_span(span, text) and "text" in v and v["text"] != text[span[0] : span[1]]:
            hint = "the task's text changed after it was annotated; annotate it again"
            raise _span_error(where, span, text, f"says its text is {v['text']!r}", hint)
        spans.append(span)
    return spans_to_example(text, spans, where)


def _choice_example(text: str, choices: list[Any], task: str, where: Where) -> Example | None:
    labels = [str(c).strip() for c in choices if str(c).strip()]
    if not labels:
        return None
    if task == "classification" and len(labels) > 1:
        hint = 'use --task multilabel, or choice="single" in the labeling config'
        raise where.err(f"has {len(labels)} labels {labels} but the task is classification", hint)
    label: str | tuple[str, ...] = labels[0] if task == "classification" else tuple(dict.fromkeys(labels))
    return Example(text=text, label=label)


def _read_doccano(raw: str, file: str, task: str, keep_empty: bool) -> Imported:
    out = Imported()
    for no, line in enumerate(raw.split("\n"), 1):
        if not line.strip():
            continue
        where = Where(file, no)
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise where.err(f"not valid JSON: {exc.msg}", "write one JSON object a line") from None
        if not isinstance(obj, dict) or not isinstance(obj.get("text"), str) or not obj["text"].strip():
            fields = ", ".join(repr(k) for k in obj) if isinstance(obj, dict) else "none"
            raise where.err(f"expected an object with a non-empty 'text' (fields: {fields})", _DOCCANO_HINT)
        key = next((k for k in ("label", "labels", "entities") if k in obj), None)
        value = obj.get(key) if key else None
        value = [value] if isinstance(value, str) else (value or [])
        if not isinstance(value, list):
            raise where.err(f"'{key}' must be a list", _DOCCANO_HINT)
        if task == "ner" and (value or keep_empty):
            spans = [_doccano_span(v, obj["text"], where) for v in value]
            ex: Example | None = spans_to_example(obj["text"], spans, where)
        else:
            ex = _choice_example(obj["text"], value, task, where) if task != "ner" else None
        if ex is None:
            out.unannotated += 1
        else:
            out.examples.append(replace(ex, source=file, line=no))
    return out


_DOCCANO_HINT = (
    'write lines like {"text": "...", "label": ["pos"]} or {"text": "...", "label": [[0, 4, "PER"]]}'
)


def _doccano_span(item: Any, text: str, where: Where) -> Span:
    if isinstance(item, dict):
        item = [item.get("start_offset"), item.get("end_offset"), item.get("label")]
    if not isinstance(item, list | tuple) or len(item) != 3:
        raise where.err(f"span {item!r} is not [start, end, type]", _DOCCANO_HINT)
    return (item[0], item[1], item[2])
