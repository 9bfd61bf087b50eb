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
from tuneforge.data.tags import detect_scheme, split_tag, to_bio
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
_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".json": "jsonl",
    ".ndjson": "jsonl",
    ".conll": "conll",
    ".conllx": "conll",
    ".iob": "conll",
    ".bio": "conll",
    ".bmes": "bmes",
}
_TAG_RE = re.compile(r"^(O|[BIEMSLU]-\S+)$")
_CJK_RE = re.compile(
    "[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef\U00020000-\U0002fa1f]"
)
_FORMAT_HINT = "set data.format to one of: " + ", ".join(FORMATS)
_NO_LABELS_HINT = (
    "to read it without labels (for prediction) set require_labels=False (data.require_labels: "
    "false); to evaluate, use a labelled split (such as dev) as the test set"
)


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


# ---------------------------------------------------------------------------------------------- public API


def detect_format(path: str | Path) -> str:
    """The format of ``path`` (one of :data:`FORMATS`), from its extension and, if needed, its content."""
    text, _ = read_text(path)
    return _detect(Path(path), text)


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
) -> list[Example]:
    """Read labelled examples for ``task`` ("classification", "multilabel" or "ner") from ``path``."""
    file = str(path)
    if task not in TASKS:
        raise DataError(
            f"unknown task {task!r}",
            file=file,
            hint=f"use one of {', '.join(TASKS)}.{did_you_mean(task, TASKS)}",
        )
    text = _read_nonempty(path, encoding)
    fmt = _detect(Path(path), text) if format == "auto" else _check_format(format, file)
    ner_format = fmt in ("conll", "bmes")
    if fmt != "jsonl" and ner_format != (task == "ner"):
        wanted = "conll, bmes or jsonl" if task == "ner" else "csv, tsv, jsonl or txt"
        raise DataError(
            f"format {fmt!r} cannot hold {task} data",
            file=file,
            hint=f"for task {task!r} use {wanted}, or check data.task",
        )
    opts = _Opts(
        file, task, text_column, label_column, token_column, tag_column, label_separator, require_labels
    )
    return _nonempty(_READERS[fmt](text, opts), file)


def read_texts(
    path: str | Path,
    *,
    format: str = "auto",
    text_column: str = "auto",
    encoding: str = "auto",
) -> list[Example]:
    """Unlabelled input for prediction: a text column of csv/tsv/jsonl, tokens of conll/bmes, or one text a line
    (format "lines"). Labels and tags in the file, if any, are ignored."""
    file = str(path)
    text = _read_nonempty(path, encoding)
    fmt = format
    if format == "auto":
        fmt = _EXTENSIONS.get(Path(path).suffix.lower()) or _sniff(text)
        fmt = fmt if fmt in ("csv", "tsv", "jsonl", "conll", "bmes") else "lines"
    elif format != "lines":
        _check_format(format, file, extra=("lines",))
    if fmt == "lines":
        examples = [
            Example(text=raw.strip(), source=file, line=no)
            for no, raw in enumerate(text.split("\n"), 1)
            if raw.strip()
        ]
        return _nonempty(examples, file)
    ner = fmt in ("conll", "bmes")
    opts = _Opts(file, "ner" if ner else "classification", text_column, require_labels=False, read_tags=False)
    examples = _READERS[fmt](text, opts)
    return _nonempty([replace(e, label=None, tags=None) for e in examples], file)


# ---------------------------------------------------------------------------------------------- detection


def _detect(path: Path, text: str) -> str:
    name = path.name.lower()
    fmt = "bmes" if name.endswith(".bmes") else _EXTENSIONS.get(path.suffix.lower())
    fmt = fmt or _sniff(text)
    if fmt is None:
        ext = f"extension {path.suffix!r}" if path.suffix else "file name"
        raise DataError(
            f"unknown data format: cannot tell it from the {ext} or the content",
            file=str(path),
            hint=_FORMAT_HINT,
        )
    return fmt


def _sniff(text: str) -> str | None:
    """Guess the format from the first non-blank lines."""
    lines = [line for line in text.split("\n") if line.strip()][:200]
    if not lines:
        return None
    if lines[0].lstrip().startswith("{"):
        return "jsonl"
    if any(line.startswith("-DOCSTART-") for line in lines):
        return "conll"
    if all("\t" in line for line in lines):
        halves = [(left.split(), right.split()) for left, _, right in (ln.partition("\t") for ln in lines)]
        if all(len(a) == len(b) and all(_TAG_RE.match(t) for t in b) for a, b in halves) and any(
            len(a) > 1 for a, _ in halves
        ):
            return "bmes"
    fields = [line.split() for line in lines]
    if sum(len(f) >= 2 and bool(_TAG_RE.match(f[-1])) for f in fields) >= 0.9 * len(fields):
        return "conll"
    if "\t" in lines[0] and len({line.count("\t") for line in lines}) == 1:
        return "tsv"
    if all(len(f) >= 2 for f in fields):
        return "txt"
    return None


def _check_format(fmt: str, file: str, extra: tuple[str, ...] = ()) -> str:
    allowed = FORMATS + extra
    if fmt not in allowed:
        raise DataError(
            f"unknown data format {fmt!r}",
            file=file,
            hint=f"use one of {', '.join(allowed)}, or 'auto'.{did_you_mean(fmt, allowed)}",
        )
    return fmt


def _read_nonempty(path: str | Path, encoding: str) -> str:
    text, _ = read_text(path, encoding)
    if not text.strip():
        raise DataError("the file is empty", file=str(path), hint="check that the right file was given")
    return text


def _nonempty(examples: list[Example], file: str) -> list[Example]:
    if not examples:
        raise DataError("contains no examples", file=file, hint="check the file's content and data.format")
    return examples


# ---------------------------------------------------------------------------------------------- CSV / TSV


def _read_delimited(text: str, o: _Opts, delimiter: str) -> list[Example]:
    rows = _rows(text, o.file, delimiter)
    (hline, header), data = rows[0], rows[1:]
    names = [h.strip() for h in header]
    if not data:
        raise DataError(
            "has a header row but no examples", file=o.file, line=hline, hint="add rows below the header"
        )
    ti = _column(names, o.text_column, TEXT_CANDIDATES, "text", o, hline, required=True)
    li = _column(names, o.label_column, LABEL_CANDIDATES, "label", o, hline, required=o.require_labels)
    kind = "tab" if delimiter == "\t" else "comma"
    out = []
    for line, row in data:
        if len(row) != len(names):
            raise DataError(
                f"expected {len(names)} fields (as in the header) but found {len(row)}",
                file=o.file,
                line=line,
                hint=f"a field that contains a {kind} or a line break must be in double quotes"
                if kind == "comma"
                else "fields must be separated by exactly one TAB; texts must not contain TABs",
            )
        if not row[ti].strip():
            raise DataError(
                "empty text",
                file=o.file,
                line=line,
                column=names[ti],
                hint="fill in the text or delete the row",
            )
        label = _label(row[li], o, line, names[li]) if li is not None else None
        out.append(Example(text=row[ti], label=label, source=o.file, line=line))
    return out


def _rows(text: str, file: str, delimiter: str) -> list[tuple[int, list[str]]]:
    """Non-blank records as (start line, fields). TSV falls back to no quoting (GLUE style) when quotes
    make the rows inconsistent, e.g. texts that start with a quote character."""
    try:
        rows, error = _parse(text, delimiter, csv.QUOTE_MINIMAL), None
    except DataError as exc:
        rows, error = [], exc
    if delimiter == "\t":
        width = len(rows[0][1]) if rows else -1
        one_line_each = len(rows) == sum(1 for line in text.split("\n") if line.strip())
        if error or not one_line_each or any(len(r) != width for _, r in rows):
            try:
                plain = _parse(text, delimiter, csv.QUOTE_NONE)
            except DataError:
                plain = []
            if plain and (error or len({len(r) for _, r in plain}) == 1):
                rows, error = plain, None
    if error:
        raise DataError(error.message, file=file, line=error.line, hint=error.hint)
    if not rows:
        raise DataError("the file is empty", file=file, hint="check that the right file was given")
    return rows


def _parse(text: str, delimiter: str, quoting: int) -> list[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quoting=quoting, strict=True)
    rows, start = [], 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return rows
        except csv.Error as exc:
            raise _csv_error(str(exc), start) from None
        if len(row) > 1 or (row and row[0].strip()):
            rows.append((start, row))
        start = reader.line_num + 1


def _csv_error(message: str, line: int) -> DataError:
    quote_hint = 'close every quoted field; a quote inside a quoted field is written as two quotes ("")'
    if "unexpected end of data" in message:
        return DataError(
            "unterminated quote: the quoted field that starts on this line is never closed",
            line=line,
            hint=quote_hint,
        )
    if "field larger than field limit" in message:
        return DataError(
            "a field is too long (over 131072 characters): probably an unterminated quote",
            line=line,
            hint=quote_hint,
        )
    if "expected after" in message:
        return DataError(
            f"unexpected character after a closing quote ({message})", line=line, hint=quote_hint
        )
    return DataError(f"cannot parse the row: {message}", line=line, hint=quote_hint)


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
        raise DataError(
            f"no column {wanted!r} in the header (columns: {listing}).{did_you_mean(wanted, names)}",
            file=o.file,
            line=line,
            hint=f"set data.{kind}_column to one of the header's columns",
        )
    for cand in candidates:
        if cand in lowered:
            return lowered.index(cand)
    if not required:
        return None
    if kind == "label":
        raise DataError(
            f"the file has no label column (columns: {listing})",
            file=o.file,
            line=line,
            hint=f"{_NO_LABELS_HINT}; or set data.label_column",
        )
    raise DataError(
        f"no text column found (columns: {listing})",
        file=o.file,
        line=line,
        hint=f"name it one of {', '.join(candidates)}, or set data.{kind}_column",
    )


def _label(cell: str, o: _Opts, line: int, column: str) -> str | tuple[str, ...] | None:
    if o.task == "multilabel":
        parts = tuple(p.strip() for p in cell.split(o.label_separator) if p.strip())
        value: str | tuple[str, ...] | None = parts or None
    else:
        value = cell.strip() or None
    if value is None and o.require_labels:
        raise DataError(
            "empty label", file=o.file, line=line, column=column, hint="fill in the label or delete the row"
        )
    return value


# ---------------------------------------------------------------------------------------------- JSON lines


def _read_jsonl(text: str, o: _Opts) -> list[Example]:
    out: list[Example] = []
    sentences: list[_Sentence] = []
    is_array = text.lstrip().startswith("[")
    for no, raw in enumerate(text.split("\n"), 1):
        if not raw.strip():
            continue
        obj = _json_object(raw, no, o.file, is_array)
        if o.task == "ner":
            sentences.append(_json_sentence(obj, no, o))
        else:
            out.append(_json_example(obj, no, o))
    return _finish_ner(sentences, o) if o.task == "ner" else out


def _json_object(raw: str, no: int, file: str, is_array: bool) -> dict[str, Any]:
    hint = (
        "the file is a JSON array: write one object per line (JSON lines) instead"
        if is_array
        else 'each line must hold one complete JSON object, such as {"text": "...", "label": "..."}'
    )
    try:
        obj = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise DataError(
            f"not valid JSON: {exc.msg} at column {exc.colno}", file=file, line=no, hint=hint
        ) from None
    except (ValueError, RecursionError) as exc:
        raise DataError(f"not valid JSON: {exc}", file=file, line=no, hint=hint) from None
    if not isinstance(obj, dict):
        raise DataError(
            f"expected a JSON object {{...}} but found {_json_type(obj)}", file=file, line=no, hint=hint
        )
    return obj


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


def _json_key(
    obj: dict[str, Any],
    wanted: str,
    candidates: tuple[str, ...],
    kind: str,
    no: int,
    o: _Opts,
    required: bool,
) -> str | None:
    lowered = {k.lower(): k for k in obj}
    fields = ", ".join(repr(k) for k in obj) or "none"
    if wanted != "auto":
        if wanted.lower() in lowered:
            return lowered[wanted.lower()]
        if not required:
            return None
        raise DataError(
            f"no field {wanted!r} in the object (fields: {fields}).{did_you_mean(wanted, list(obj))}",
            file=o.file,
            line=no,
            hint=f"set data.{kind}_column to one of the fields",
        )
    key = next((lowered[c] for c in candidates if c in lowered), None)
    if key is None and required:
        hint = _NO_LABELS_HINT if kind == "label" else f"name it one of {', '.join(candidates)}"
        raise DataError(
            f"the object has no {kind} field (fields: {fields})",
            file=o.file,
            line=no,
            hint=f"{hint}; or set data.{kind}_column",
        )
    return key


def _json_example(obj: dict[str, Any], no: int, o: _Opts) -> Example:
    tkey = _json_key(obj, o.text_column, TEXT_CANDIDATES, "text", no, o, required=True)
    assert tkey is not None
    text = obj[tkey]
    if not isinstance(text, str):
        raise DataError(
            f"the text must be a string, not {_json_type(text)}",
            file=o.file,
            line=no,
            column=tkey,
            hint="put the text in quotes",
        )
    if not text.strip():
        raise DataError(
            "empty text", file=o.file, line=no, column=tkey, hint="fill in the text or delete the line"
        )
    lkey = _json_key(obj, o.label_column, LABEL_CANDIDATES, "label", no, o, required=o.require_labels)
    label = _json_label(obj[lkey], no, o, lkey) if lkey is not None else None
    return Example(text=text, label=label, source=o.file, line=no)


def _json_label(value: Any, no: int, o: _Opts, key: str) -> str | tuple[str, ...] | None:
    scalar = isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))
    if o.task == "multilabel" and isinstance(value, list):
        if not all(isinstance(v, str) or (isinstance(v, int) and not isinstance(v, bool)) for v in value):
            raise DataError(
                "the labels must be a list of strings",
                file=o.file,
                line=no,
                column=key,
                hint='write them like ["sports", "politics"]',
            )
        return tuple(str(v).strip() for v in value if str(v).strip())
    if value is None or scalar:
        return _label("" if value is None else str(value), o, no, key)
    extra = "; for multi-label data set task: multilabel" if isinstance(value, list) else ""
    raise DataError(
        f"the label must be a string, not {_json_type(value)}{extra}",
        file=o.file,
        line=no,
        column=key,
        hint='write it like "label": "positive"',
    )


# ---------------------------------------------------------------------------------------------- NER formats


@dataclass
class _Sentence:
    line: int
    tokens: list[str]
    tags: list[str] | None
    tag_lines: list[int]


def _json_sentence(obj: dict[str, Any], no: int, o: _Opts) -> _Sentence:
    tkey = _json_key(obj, o.text_column, TOKEN_KEYS, "text", no, o, required=True)
    gkey = _json_key(obj, o.label_column, TAG_KEYS, "label", no, o, required=o.require_labels and o.read_tags)
    assert tkey is not None
    tokens = obj[tkey]
    if (
        not isinstance(tokens, list)
        or not tokens
        or not all(isinstance(t, str) and t.strip() for t in tokens)
    ):
        raise DataError(
            "the tokens must be a non-empty list of non-blank strings",
            file=o.file,
            line=no,
            column=tkey,
            hint='write them like "tokens": ["John", "lives", "here"]',
        )
    tags = obj[gkey] if gkey is not None and o.read_tags else None
    if tags is not None:
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise DataError(
                "the tags must be a list of strings",
                file=o.file,
                line=no,
                column=gkey,
                hint='write them like "tags": ["B-PER", "O", "O"]',
            )
        if len(tags) != len(tokens):
            raise DataError(
                f"has {len(tokens)} tokens but {len(tags)} tags",
                file=o.file,
                line=no,
                hint="give exactly one tag per token",
            )
    return _Sentence(no, tokens, tags, [no] * len(tokens))


def _read_conll(text: str, o: _Opts) -> list[Example]:
    sentences: list[_Sentence] = []
    rows: list[tuple[int, list[str]]] = []
    with_tags = o.read_tags and (o.require_labels or _first_width(text) >= 2)
    for no, raw in enumerate(text.split("\n") + [""], 1):
        cols = raw.split()
        if cols and cols[0] != "-DOCSTART-":
            rows.append((no, cols))
        elif rows:
            sentences.append(_conll_sentence(rows, o, with_tags))
            rows = []
    return _finish_ner(sentences, o)


def _first_width(text: str) -> int:
    return next(
        (len(cols) for cols in (ln.split() for ln in text.split("\n")) if cols and cols[0] != "-DOCSTART-"), 0
    )


def _conll_sentence(rows: list[tuple[int, list[str]]], o: _Opts, with_tags: bool) -> _Sentence:
    tokens, tags, lines = [], [], []
    for no, cols in rows:
        n = len(cols)
        ti, gi = o.token_column % n if -n <= o.token_column < n else None, None
        if with_tags:
            gi = o.tag_column % n if -n <= o.tag_column < n else None
        if ti is None or (with_tags and (gi is None or gi == ti)):
            need = max(
                2 if with_tags else 1, *(c + 1 if c >= 0 else -c for c in (o.token_column, o.tag_column))
            )
            raise DataError(
                f"too few columns: found {n}, expected at least {need} (a token and its tag)",
                file=o.file,
                line=no,
                hint="write one token a line, then its tag, separated by spaces or a TAB; "
                "check data.token_column / data.tag_column",
            )
        tokens.append(cols[ti])
        lines.append(no)
        if gi is not None:
            tags.append(cols[gi])
    return _Sentence(rows[0][0], tokens, tags if with_tags else None, lines)


def _read_bmes(text: str, o: _Opts) -> list[Example]:
    lines = text.split("\n")
    if not any("\t" in line for line in lines):  # one character a line, CoNLL style
        return _read_conll(text, o)
    sentences = []
    for no, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        left, tab, right = raw.partition("\t")
        tokens, tags = left.split(), right.split()
        if not tab and o.require_labels and o.read_tags:
            raise DataError(
                "expected characters, a TAB, then one tag per character",
                file=o.file,
                line=no,
                hint="separate the characters from the tags with a TAB",
            )
        if not tokens:
            raise DataError("no characters before the TAB", file=o.file, line=no, hint="delete the line")
        if o.read_tags and tab and len(tokens) != len(tags):
            raise DataError(
                f"has {len(tokens)} tokens but {len(tags)} tags",
                file=o.file,
                line=no,
                hint="give exactly one tag per character",
            )
        sentences.append(_Sentence(no, tokens, tags if (tab and o.read_tags) else None, [no] * len(tokens)))
    return _finish_ner(sentences, o)


def _finish_ner(sentences: list[_Sentence], o: _Opts) -> list[Example]:
    """Check tags, convert the file's scheme to BIO and pick the token separator."""
    flat: list[str] = []
    for s in sentences:
        for tag, tok, no in zip(s.tags or (), s.tokens, s.tag_lines, strict=False):
            try:
                split_tag(tag)
            except ValueError:
                raise DataError(
                    f"malformed tag {tag!r} for token {tok!r}",
                    file=o.file,
                    line=no,
                    hint="a tag is O or PREFIX-TYPE such as B-PER or I-LOC "
                    "(BIO, IOB1, BIOES or BMES); check data.tag_column",
                ) from None
        flat.extend([*(s.tags or ()), "O"])
    scheme = detect_scheme(flat)
    all_tokens = [t for s in sentences for t in s.tokens]
    sep = "" if sum(1 for t in all_tokens if _CJK_RE.search(t)) * 2 >= len(all_tokens) > 0 else " "
    return [
        Example(
            text=sep.join(s.tokens),
            tokens=tuple(s.tokens),
            sep=sep,
            source=o.file,
            line=s.line,
            tags=tuple(to_bio(s.tags, scheme)) if s.tags is not None else None,
        )
        for s in sentences
    ]


# ---------------------------------------------------------------------------------------------- label-first text

_FASTTEXT_RE = re.compile(r"\s*((?:__label__\S*\s+)+)(.*)")
_LABEL_FIRST_RE = re.compile(r"\s*(\S+)(?:\s+(.*))?")


def _read_txt(text: str, o: _Opts) -> list[Example]:
    out = []
    for no, raw in enumerate(text.split("\n"), 1):
        if not raw.strip():
            continue
        fast = _FASTTEXT_RE.match(raw)
        if fast:
            labels = [f.removeprefix("__label__") for f in fast.group(1).split()]
            body = fast.group(2)
        else:
            m = _LABEL_FIRST_RE.match(raw)
            assert m is not None
            labels, body = [m.group(1)], m.group(2) or ""
        if not body.strip():
            raise DataError(
                "no text after the label",
                file=o.file,
                line=no,
                hint="each line must be '<label> <text>' or '__label__<label> <text>'",
            )
        out.append(Example(text=body.rstrip(), label=_txt_label(labels, o, no), source=o.file, line=no))
    return out


def _txt_label(labels: list[str], o: _Opts, no: int) -> str | tuple[str, ...] | None:
    if o.task == "multilabel":
        return _label(o.label_separator.join(labels), o, no, "label")
    if len(labels) > 1:
        raise DataError(
            f"has {len(labels)} labels but the task is classification",
            file=o.file,
            line=no,
            hint="set task: multilabel, or give one label a line",
        )
    return _label(labels[0], o, no, "label")


_READERS: dict[str, Callable[[str, _Opts], list[Example]]] = {
    "csv": lambda text, o: _read_delimited(text, o, ","),
    "tsv": lambda text, o: _read_delimited(text, o, "\t"),
    "jsonl": _read_jsonl,
    "conll": _read_conll,
    "bmes": _read_bmes,
    "txt": _read_txt,
}
