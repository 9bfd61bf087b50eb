"""Read labelled examples (and unlabelled texts) from CSV, TSV, JSON lines, CoNLL, BMES and label-first text.

Every problem is a :class:`DataError` naming the file, line, column, what is wrong and how to fix it.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tuneforge.data.encoding import read_text
from tuneforge.data.tags import detect_scheme, to_bio
from tuneforge.errors import DataError, did_you_mean
from tuneforge.types import Example

FORMATS = ("csv", "tsv", "jsonl", "conll", "bmes", "txt")
TASKS = ("classification", "multilabel", "ner")
TEXT_CANDIDATES = (
    "text",
    "sentence",
    "text_a",
    "content",
    "review",
    "utterance",
    "query",
    "question",
    "title",
)
LABEL_CANDIDATES = ("label", "labels", "category", "intent", "class", "sentiment", "target", "tag")
TOKEN_KEYS = ("tokens", "words", "text", "chars", "characters")
TAG_KEYS = ("tags", "ner_tags", "labels", "label")
_EXT = ".csv:csv .tsv:tsv .tab:tsv .jsonl:jsonl .json:jsonl .ndjson:jsonl .conll:conll .iob:conll .bmes:bmes"
_EXTENSIONS = dict(pair.split(":") for pair in _EXT.split())
_TAG_RE = re.compile(r"^(O|[BIEMSLU]-\S+)$")
_CJK_RE = re.compile(
    "[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef\U00020000-\U0002fa1f]"
)
_NO_LABELS = (
    "unlabelled files are for `tuneforge predict` (Python: read_texts); "
    "to train or evaluate, use a labelled split (such as dev) instead"
)
_QUOTE_HINT = 'close every quoted field; write a quote inside one as two quotes ("")'
_CSV_ERRORS = {
    "unexpected end of data": "unterminated quote: the quoted field that starts on this line is never closed",
    "field larger than field limit": "a field is over 131072 characters long: probably an unterminated quote",
    "expected after": "unexpected character after a closing quote",
}
Label = str | tuple[str, ...] | None


@dataclass(frozen=True)
class _Opts:
    file: str
    task: str = "classification"
    text_column: str = "auto"
    label_column: str = "auto"
    token_column: int = 0
    tag_column: int = -1
    label_separator: str = "|"
    require_labels: bool = True
    read_tags: bool = True
    group_column: str | None = None

    def err(
        self, line: int | None, msg: str, hint: str | None = None, column: str | None = None
    ) -> DataError:
        return DataError(msg, file=self.file, line=line, column=column, hint=hint)


# ---------------------------------------------------------------------------------------------- public API


def detect_format(path: str | Path) -> str:
    """The format of ``path`` (one of :data:`FORMATS`), from its extension and, if needed, its content."""
    return _detect(Path(path), read_text(path)[0])


def read_examples(
    path: str | Path,
    *,
    task: str = "classification",
    format: str = "auto",
    text_column: str = "auto",
    label_column: str = "auto",
    token_column: int = 0,
    tag_column: int = -1,
    label_separator: str = "|",
    encoding: str = "auto",
    require_labels: bool = True,
    group_column: str | None = None,
) -> list[Example]:
    """Read labelled examples for ``task`` ("classification", "multilabel" or "ner") from ``path``.

    ``group_column`` (csv/tsv/jsonl) fills ``Example.group``, e.g. a document id, so that splits keep a
    group's rows together; CoNLL files with two or more ``-DOCSTART-`` lines get ``doc-<n>`` groups
    (a single document gives no grouping: its sentences are split like ungrouped rows).
    """
    o = _Opts(
        str(path), task, text_column, label_column, token_column, tag_column, label_separator, require_labels
    )
    o = replace(o, group_column=group_column)
    if task not in TASKS:
        hint = f"use one of: {', '.join(TASKS)}.{did_you_mean(task, TASKS)}"
        raise o.err(None, f"unknown task {task!r}", hint)
    text = _read_nonempty(path, encoding)
    fmt = _detect(Path(path), text) if format == "auto" else _check_format(format, o)
    if fmt != "jsonl" and (fmt in ("conll", "bmes")) != (task == "ner"):
        wanted = "conll, bmes or jsonl" if task == "ner" else "csv, tsv, jsonl or txt"
        raise o.err(None, f"format {fmt!r} cannot hold {task} data", f"use {wanted}, or check data.task")
    if group_column is not None and fmt not in ("csv", "tsv", "jsonl"):
        hint = "CoNLL files get one group per -DOCSTART- document by themselves; remove data.group_column"
        raise o.err(None, f"format {fmt!r} has no named columns for group_column {group_column!r}", hint)
    return _nonempty(_READERS[fmt](text, o), o)


def read_texts(
    path: str | Path, *, format: str = "auto", text_column: str = "auto", encoding: str = "auto"
) -> list[Example]:
    """Unlabelled input for prediction: the text column of csv/tsv/jsonl, the tokens of conll/bmes, or one
    text a line (format "lines"). Labels and tags in the file, if any, are ignored."""
    o = _Opts(str(path), text_column=text_column, require_labels=False, read_tags=False)
    text = _read_nonempty(path, encoding)
    fmt = format
    if format == "auto":
        fmt = _EXTENSIONS.get(Path(path).suffix.lower()) or _sniff(text)
        fmt = fmt if fmt in ("csv", "tsv", "jsonl", "conll", "bmes") else "lines"
    elif format != "lines":
        _check_format(format, o, extra=("lines",))
    if fmt == "lines":
        lines = enumerate(text.split("\n"), 1)
        return _nonempty([Example(text=t.strip(), source=o.file, line=n) for n, t in lines if t.strip()], o)
    o = replace(o, task="ner" if fmt in ("conll", "bmes") else "classification")
    return _nonempty([replace(e, label=None, tags=None) for e in _READERS[fmt](text, o)], o)


# ---------------------------------------------------------------------------------------------- detection


def _detect(path: Path, text: str) -> str:
    fmt = "bmes" if path.name.lower().endswith(".bmes") else _EXTENSIONS.get(path.suffix.lower())
    fmt = fmt or _sniff(text)
    if fmt is None:
        what = f"extension {path.suffix!r}" if path.suffix else "file name"
        raise DataError(
            f"unknown data format: cannot tell it from the {what} or the content",
            file=str(path),
            hint="set data.format to one of: " + ", ".join(FORMATS),
        )
    return fmt


def _sniff(text: str) -> str | None:
    """Guess the format from the first non-blank lines."""
    lines = [line for line in text.split("\n") if line.strip()][:200]
    if not lines or lines[0].lstrip().startswith("{"):
        return "jsonl" if lines else None
    if any(line.startswith("-DOCSTART-") for line in lines):
        return "conll"
    halves = [(a.split(), b.split()) for a, tab, b in (ln.partition("\t") for ln in lines) if tab]
    one_tab_each = len(halves) == len(lines) and any(len(a) > 1 for a, _ in halves)
    if one_tab_each and all(len(a) == len(b) and all(_TAG_RE.match(t) for t in b) for a, b in halves):
        return "bmes"
    fields = [line.split() for line in lines]
    if sum(len(f) >= 2 and bool(_TAG_RE.match(f[-1])) for f in fields) >= 0.9 * len(fields):
        return "conll"
    if "\t" in lines[0] and len({line.count("\t") for line in lines}) == 1:
        return "tsv"
    if _looks_like_csv(lines):
        return "csv"
    return "txt" if all(len(f) >= 2 for f in fields) else None


def _looks_like_csv(lines: list[str]) -> bool:
    """A header of known column names separated by commas, and rows that parse to as many fields."""
    header = [h.strip().lower() for h in next(csv.reader([lines[0]]))]
    known = set(TEXT_CANDIDATES) | set(LABEL_CANDIDATES)
    if len(header) < 2 or not known.intersection(header):
        return False
    try:
        rows = list(csv.reader(lines[1:50]))
    except csv.Error:
        return False
    return all(len(r) == len(header) for r in rows)


def _check_format(fmt: str, o: _Opts, extra: tuple[str, ...] = ()) -> str:
    allowed = FORMATS + extra
    if fmt not in allowed:
        hint = f"use one of {', '.join(allowed)}, or 'auto'.{did_you_mean(fmt, allowed)}"
        raise o.err(None, f"unknown data format {fmt!r}", hint)
    return fmt


def _read_nonempty(path: str | Path, encoding: str) -> str:
    text, _ = read_text(path, encoding)
    if not text.strip():
        raise DataError("the file is empty", file=str(path), hint="check that the right file was given")
    return text


def _nonempty(examples: list[Example], o: _Opts) -> list[Example]:
    if not examples:
        raise o.err(None, "contains no examples", "check the file's content and data.format")
    return examples


# ---------------------------------------------------------------------------------------------- CSV / TSV


def _read_delimited(text: str, o: _Opts, delimiter: str) -> list[Example]:
    rows = _rows(text, o, delimiter)
    (hline, header), data = rows[0], rows[1:]
    names = [h.strip() for h in header]
    if not data:
        raise o.err(hline, "has a header row but no examples", "add rows below the header")
    ti = _column(names, o.text_column, TEXT_CANDIDATES, "text", o, hline, required=True)
    li = _column(names, o.label_column, LABEL_CANDIDATES, "label", o, hline, required=o.require_labels)
    gi = _column(names, o.group_column, (), "group", o, hline, required=True) if o.group_column else None
    if delimiter == ",":
        hint = "a field that contains a comma, a quote or a line break must be in double quotes"
    else:
        hint = "fields are separated by exactly one TAB; texts must not contain TABs"
    out = []
    for line, row in data:
        if len(row) != len(names):
            raise o.err(line, f"expected {len(names)} fields (as in the header) but found {len(row)}", hint)
        if not row[ti].strip():
            raise o.err(line, "empty text", "fill in the text or delete the row", names[ti])
        label = _label(row[li], o, line, names[li]) if li is not None else None
        group = (row[gi].strip() or None) if gi is not None else None
        out.append(Example(text=row[ti], label=label, source=o.file, line=line, group=group))
    return out


def _rows(text: str, o: _Opts, delimiter: str) -> list[tuple[int, list[str]]]:
    """Records as (start line, fields). TSV falls back to no quoting (GLUE style) when quotes make the rows
    inconsistent, e.g. in texts that start with a quote character."""
    rows, error = _parse(text, delimiter, csv.QUOTE_MINIMAL)
    if delimiter == "\t":
        one_line_each = len(rows) == sum(1 for line in text.split("\n") if line.strip())
        if error or not one_line_each or len({len(r) for _, r in rows}) > 1:
            plain, plain_error = _parse(text, delimiter, csv.QUOTE_NONE)
            if plain and not plain_error and (error or len({len(r) for _, r in plain}) == 1):
                rows, error = plain, None
    if error:
        raise o.err(error[0], error[1], _QUOTE_HINT)
    if not rows:
        raise o.err(None, "the file is empty", "check that the right file was given")
    return rows


def _parse(
    text: str, delimiter: str, quoting: int
) -> tuple[list[tuple[int, list[str]]], tuple[int, str] | None]:
    """Non-blank records and the first error as (line, message), if any."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quoting=quoting, strict=True)
    rows: list[tuple[int, list[str]]] = []
    start = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return rows, None
        except csv.Error as exc:
            msg = str(exc)
            return rows, (
                start,
                next((v for k, v in _CSV_ERRORS.items() if k in msg), f"cannot parse ({msg})"),
            )
        if len(row) > 1 or (row and row[0].strip()):
            rows.append((start, row))
        start = reader.line_num + 1


def _column(
    names: list[str],
    wanted: str,
    candidates: tuple[str, ...],
    kind: str,
    o: _Opts,
    line: int,
    *,
    required: bool,
) -> int | None:
    lowered = [n.lower() for n in names]
    listing = ", ".join(repr(n) for n in names)
    if wanted != "auto":
        if wanted.lower() in lowered:
            return lowered.index(wanted.lower())
        hint = f"set data.{kind}_column to one of the header's columns.{did_you_mean(wanted, names)}"
        raise o.err(line, f"no column {wanted!r} in the header (columns: {listing})", hint)
    found = next((lowered.index(c) for c in candidates if c in lowered), None)
    if found is None and required and kind == "label":
        raise o.err(
            line,
            f"the file has no label column (columns: {listing})",
            f"{_NO_LABELS}; or set data.label_column",
        )
    if found is None and required:
        hint = f"name it one of {', '.join(candidates)}, or set data.{kind}_column"
        raise o.err(line, f"no {kind} column found (columns: {listing})", hint)
    return found


def _label(cell: str, o: _Opts, line: int, column: str) -> Label:
    if o.task == "multilabel":
        value: Label = tuple(p.strip() for p in cell.split(o.label_separator) if p.strip()) or None
    else:
        value = cell.strip() or None
    if value is None and o.require_labels:
        raise o.err(line, "empty label", "fill in the label or delete the row", column)
    return value


# ---------------------------------------------------------------------------------------------- JSON lines


def _read_jsonl(text: str, o: _Opts) -> list[Example]:
    is_array = text.lstrip().startswith("[")
    objects = [
        (n, _json_object(raw, n, o, is_array)) for n, raw in enumerate(text.split("\n"), 1) if raw.strip()
    ]
    if o.task == "ner":
        return _finish_ner([_json_sentence(obj, n, o) for n, obj in objects], o)
    return [_json_example(obj, n, o) for n, obj in objects]


def _json_object(raw: str, no: int, o: _Opts, is_array: bool) -> dict[str, Any]:
    if is_array:
        hint = "the file is a JSON array: write one object a line (JSON lines) instead"
    else:
        hint = 'each line must hold one complete JSON object, such as {"text": "great film", "label": "pos"}'
    try:
        obj = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise o.err(no, f"not valid JSON: {exc.msg} at column {exc.colno}", hint) from None
    except (ValueError, RecursionError) as exc:
        raise o.err(no, f"not valid JSON: {exc}", hint) from None
    if not isinstance(obj, dict):
        raise o.err(no, f"expected a JSON object but found {_json_type(obj)}", hint)
    return obj


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


def _json_key(
    obj: dict[str, Any], wanted: str, keys: tuple[str, ...], kind: str, no: int, o: _Opts
) -> str | None:
    """The object's field for ``kind`` ("text" or "label"); a DataError when a required one is missing."""
    lowered = {k.lower(): k for k in obj}
    fields = ", ".join(repr(k) for k in obj) or "none"
    required = kind == "text" or (o.require_labels and o.read_tags)
    if wanted != "auto":
        if wanted.lower() in lowered or not required:
            return lowered.get(wanted.lower())
        hint = f"set data.{kind}_column to one of the fields.{did_you_mean(wanted, list(obj))}"
        raise o.err(no, f"no field {wanted!r} in the object (fields: {fields})", hint)
    key = next((lowered[c] for c in keys if c in lowered), None)
    if key is None and required:
        hint = _NO_LABELS if kind == "label" else f"name it one of {', '.join(keys)}"
        raise o.err(
            no, f"the object has no {kind} field (fields: {fields})", f"{hint}; or set data.{kind}_column"
        )
    return key


def _json_example(obj: dict[str, Any], no: int, o: _Opts) -> Example:
    tkey = _json_key(obj, o.text_column, TEXT_CANDIDATES, "text", no, o) or ""
    text = obj[tkey]
    if not isinstance(text, str):
        raise o.err(no, f"the text must be a string, not {_json_type(text)}", "put the text in quotes", tkey)
    if not text.strip():
        raise o.err(no, "empty text", "fill in the text or delete the line", tkey)
    lkey = _json_key(obj, o.label_column, LABEL_CANDIDATES, "label", no, o)
    label = _json_label(obj[lkey], no, o, lkey) if lkey is not None and o.read_tags else None
    return Example(text=text, label=label, source=o.file, line=no, group=_json_group(obj, no, o))


def _json_group(obj: dict[str, Any], no: int, o: _Opts) -> str | None:
    """The object's group id (``o.group_column``): a string or number; null means a group of its own."""
    if o.group_column is None:
        return None
    lowered = {k.lower(): k for k in obj}
    key = lowered.get(o.group_column.lower())
    if key is None:
        fields = ", ".join(repr(k) for k in obj) or "none"
        hint = f"set data.group_column to one of the fields.{did_you_mean(o.group_column, list(obj))}"
        raise o.err(no, f"no field {o.group_column!r} in the object (fields: {fields})", hint)
    value = obj[key]
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        hint = 'write it like "doc_id": "report-17"'
        raise o.err(no, f"the group must be a string or a number, not {_json_type(value)}", hint, key)
    return str(value).strip() or None


def _json_label(value: Any, no: int, o: _Opts, key: str) -> Label:
    def scalar(v: Any) -> bool:
        return isinstance(v, str) or (isinstance(v, int) and not isinstance(v, bool))

    if o.task == "multilabel" and isinstance(value, list):
        if not all(scalar(v) for v in value):
            raise o.err(
                no, "the labels must be a list of strings", 'write them like ["sports", "politics"]', key
            )
        return tuple(str(v).strip() for v in value if str(v).strip())
    if value is None or scalar(value):
        return _label("" if value is None else str(value), o, no, key)
    extra = "; for multi-label data set task: multilabel" if isinstance(value, list) else ""
    hint = 'write it like "label": "positive"'
    raise o.err(no, f"the label must be a string, not {_json_type(value)}{extra}", hint, key)


# ---------------------------------------------------------------------------------------------- NER formats


@dataclass
class _Sentence:
    line: int
    tokens: list[str]
    tags: list[str] | None
    tag_lines: list[int]
    group: str | None = None


def _json_sentence(obj: dict[str, Any], no: int, o: _Opts) -> _Sentence:
    tkey = _json_key(obj, o.text_column, TOKEN_KEYS, "text", no, o) or ""
    gkey = _json_key(obj, o.label_column, TAG_KEYS, "label", no, o)
    tokens = obj[tkey]
    if (
        not isinstance(tokens, list)
        or not tokens
        or not all(isinstance(t, str) and t.strip() for t in tokens)
    ):
        hint = 'write them like "tokens": ["John", "lives", "here"]'
        raise o.err(no, "the tokens must be a non-empty list of non-blank strings", hint, tkey)
    tags = obj[gkey] if gkey is not None and o.read_tags else None
    if tags is not None and (not isinstance(tags, list) or not all(isinstance(t, str) for t in tags)):
        raise o.err(
            no, "the tags must be a list of strings", 'write them like "tags": ["B-PER", "O", "O"]', gkey
        )
    if tags is not None and len(tags) != len(tokens):
        raise o.err(no, f"has {len(tokens)} tokens but {len(tags)} tags", "give exactly one tag per token")
    return _Sentence(no, tokens, tags, [no] * len(tokens), _json_group(obj, no, o))


def _read_conll(text: str, o: _Opts) -> list[Example]:
    lines = text.split("\n")
    widths = (len(cols) for cols in (ln.split() for ln in lines) if cols and cols[0] != "-DOCSTART-")
    with_tags = o.read_tags and (o.require_labels or next(widths, 0) >= 2)
    sentences: list[_Sentence] = []
    rows: list[tuple[int, list[str]]] = []
    doc = 0  # -DOCSTART- lines seen so far: sentences of document n get group "doc-<n>"
    docstart = sum(line.split()[:1] == ["-DOCSTART-"] for line in lines) >= 2
    for no, raw in enumerate([*lines, ""], 1):
        cols = raw.split()
        if cols and cols[0] != "-DOCSTART-":
            rows.append((no, cols))
            continue
        if rows:
            sentences.append(_conll_sentence(rows, o, with_tags))
            sentences[-1].group = f"doc-{doc}" if docstart else None
            rows = []
        doc += bool(cols)
    return _finish_ner(sentences, o)


def _conll_sentence(rows: list[tuple[int, list[str]]], o: _Opts, with_tags: bool) -> _Sentence:
    tokens, tags, lines = [], [], []
    for no, cols in rows:
        n = len(cols)
        ti = o.token_column % n if -n <= o.token_column < n else None
        gi = o.tag_column % n if with_tags and -n <= o.tag_column < n else None
        if ti is None or (with_tags and gi in (None, ti)):
            need = max(
                2 if with_tags else 1, *(c + 1 if c >= 0 else -c for c in (o.token_column, o.tag_column))
            )
            hint = "write a token and its tag a line, separated by spaces or a TAB; check data.token_column/tag_column"
            raise o.err(
                no, f"too few columns: found {n}, expected at least {need} (a token and its tag)", hint
            )
        tokens.append(cols[ti])
        lines.append(no)
        if gi is not None:
            tags.append(cols[gi])
    return _Sentence(rows[0][0], tokens, tags if with_tags else None, lines)


def _read_bmes(text: str, o: _Opts) -> list[Example]:
    lines = text.split("\n")
    if not any("\t" in line for line in lines):  # one character a line: CoNLL style
        return _read_conll(text, o)
    sentences = []
    for no, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        left, tab, right = raw.partition("\t")
        tokens, tags = left.split(), right.split()
        if not tab and o.require_labels and o.read_tags:
            hint = "separate the characters from the tags with a TAB"
            raise o.err(no, "expected characters, a TAB, then one tag per character", hint)
        if not tokens:
            raise o.err(no, "no characters before the TAB", "delete the line or add the characters")
        if o.read_tags and tab and len(tokens) != len(tags):
            raise o.err(
                no, f"has {len(tokens)} tokens but {len(tags)} tags", "give exactly one tag per character"
            )
        sentences.append(_Sentence(no, tokens, tags if tab and o.read_tags else None, [no] * len(tokens)))
    return _finish_ner(sentences, o)


def _finish_ner(sentences: list[_Sentence], o: _Opts) -> list[Example]:
    """Check the tags, convert the file's scheme to BIO and pick the token separator."""
    flat: list[str] = []
    for s in sentences:
        for tag, tok, no in zip(s.tags or (), s.tokens, s.tag_lines, strict=False):
            if not _TAG_RE.match(tag):
                hint = "a tag is O or PREFIX-TYPE such as B-PER or I-LOC (BIO, IOB1, BIOES or BMES)"
                raise o.err(no, f"malformed tag {tag!r} for token {tok!r}", f"{hint}; check data.tag_column")
        flat.extend([*(s.tags or ()), "O"])
    scheme = detect_scheme(flat)
    tokens = [t for s in sentences for t in s.tokens]
    sep = "" if sum(1 for t in tokens if _CJK_RE.search(t)) * 2 >= len(tokens) > 0 else " "
    return [
        Example(
            text=sep.join(s.tokens),
            tokens=tuple(s.tokens),
            tags=tuple(to_bio(s.tags, scheme)) if s.tags is not None else None,
            sep=sep,
            source=o.file,
            line=s.line,
            group=s.group,
        )
        for s in sentences
    ]


# ---------------------------------------------------------------------------------------------- txt

_FASTTEXT_RE = re.compile(r"\s*((?:__label__\S*\s+)+)(.*)")
_LABEL_FIRST_RE = re.compile(r"\s*(\S+)(?:\s+(.*))?")


def _read_txt(text: str, o: _Opts) -> list[Example]:
    out = []
    for no, raw in enumerate(text.split("\n"), 1):
        if not raw.strip():
            continue
        fast = _FASTTEXT_RE.match(raw)
        m = fast or _LABEL_FIRST_RE.match(raw)
        assert m is not None
        labels = [f.removeprefix("__label__") for f in m.group(1).split()]
        body = m.group(2) or ""
        if not body.strip():
            raise o.err(
                no,
                "no text after the label",
                "write each line as '<label> <text>' or '__label__<label> <text>'",
            )
        if len(labels) > 1 and o.task != "multilabel" and o.read_tags:
            raise o.err(
                no, f"has {len(labels)} labels but the task is classification", "set task: multilabel"
            )
        label = _label(o.label_separator.join(labels), o, no, "label") if o.read_tags else None
        out.append(Example(text=body.rstrip(), label=label, source=o.file, line=no))
    return out


_READERS: dict[str, Callable[[str, _Opts], list[Example]]] = {
    "csv": lambda text, o: _read_delimited(text, o, ","),
    "tsv": lambda text, o: _read_delimited(text, o, "\t"),
    "jsonl": _read_jsonl,
    "conll": _read_conll,
    "bmes": _read_bmes,
    "txt": _read_txt,
}
