"""Read a data file's text, detecting its encoding, with errors that point at the bad byte."""

from __future__ import annotations

import codecs
from pathlib import Path

from tuneforge.errors import DataError, did_you_mean

_BOMS = (  # longest first: the UTF-32-LE BOM starts with the UTF-16-LE one
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_MAGIC = (
    (b"PK\x03\x04", "a ZIP archive or an Excel workbook: export it as CSV"),
    (b"\x1f\x8b", "gzip-compressed: decompress it first"),
    (b"%PDF", "a PDF document"),
)
ENCODING_HINT = "re-save the file as UTF-8 or set data.encoding"


def read_text(path: str | Path, encoding: str = "auto") -> tuple[str, str]:
    """Return ``(text, encoding used)``; newlines are normalised to ``\\n`` and a BOM is dropped."""
    data = read_bytes(path)
    if encoding == "auto":
        text, used = _decode_auto(data, str(path))
    else:
        text, used = _decode_as(data, encoding, str(path)), encoding
    if "\x00" in text:
        raise _binary(str(path), data)
    text = text.removeprefix("\ufeff")
    return text.replace("\r\n", "\n").replace("\r", "\n"), used


def read_bytes(path: str | Path) -> bytes:
    """The file's bytes, or a DataError when it is missing, a directory or unreadable."""
    p = Path(path)
    try:
        if p.is_dir():
            names = sorted(c.name for c in p.iterdir() if c.is_file())[:8]
            hint = f"point the data option at a file inside it ({', '.join(names)})" if names else None
            raise DataError("is a directory, not a data file", file=str(path), hint=hint)
        if not p.exists():
            raise DataError("file not found", file=str(path), hint=_missing_hint(p))
        return p.read_bytes()
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise DataError(f"cannot read the file: {reason}", file=str(path)) from None


def _missing_hint(p: Path) -> str:
    try:
        siblings = [c.name for c in p.parent.iterdir()] if p.parent.is_dir() else []
    except OSError:
        siblings = []
    suggestion = did_you_mean(p.name, siblings).strip()
    return suggestion or "check the path (relative paths are resolved from the current directory)"


def _decode_auto(data: bytes, file: str) -> tuple[str, str]:
    for bom, name in _BOMS:
        if data.startswith(bom):
            return _decode_as(data, name, file), name
    if b"\x00" in data:
        raise _binary(file, data)
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    if _mostly_utf8(data):
        line, col = _position(data, first_bad)
        raise DataError(
            f"the file is not UTF-8: byte 0x{data[first_bad]:02X} at byte column {col} cannot be decoded, "
            "although the rest of the file is UTF-8",
            file=file,
            line=line,
            hint=ENCODING_HINT,
        )
    return _guess(data, file)


def _guess(data: bytes, file: str) -> tuple[str, str]:
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is not None and best.encoding:
        try:
            return data.decode(best.encoding), best.encoding
        except (UnicodeDecodeError, LookupError):
            pass
    raise DataError(
        "the file is not UTF-8 and its encoding could not be detected", file=file, hint=ENCODING_HINT
    )


def _mostly_utf8(data: bytes) -> bool:
    """True when the bytes are UTF-8 apart from a few bad bytes (more good multi-byte characters)."""
    decoded = data.decode("utf-8", errors="replace")
    bad = decoded.count("\ufffd") - data.count(b"\xef\xbf\xbd")
    good = sum(1 for ch in decoded if ord(ch) > 0x7F and ch != "\ufffd")
    return good > 0 and good >= 2 * bad


def _decode_as(data: bytes, encoding: str, file: str) -> str:
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise DataError(
            f"unknown encoding {encoding!r}",
            file=file,
            hint="use a Python codec name such as utf-8, gb18030 or cp1252",
        ) from None
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line, col = _position(data, exc.start)
        raise DataError(
            f"cannot be decoded as {encoding}: byte 0x{data[exc.start]:02X} at byte column {col} ({exc.reason})",
            file=file,
            line=line,
            hint="set data.encoding to the file's real encoding, or 'auto' to detect it",
        ) from None


def _position(data: bytes, offset: int) -> tuple[int, int]:
    """1-based (line, byte column) of ``offset``."""
    line = data.count(b"\n", 0, offset) + 1
    return line, offset - (data.rfind(b"\n", 0, offset) + 1) + 1


def _binary(file: str, data: bytes) -> DataError:
    what = next((desc for magic, desc in _MAGIC if data.startswith(magic)), None)
    message = (
        f"looks like a binary file ({what})" if what else "looks like a binary file (it contains NUL bytes)"
    )
    return DataError(message, file=file, hint="give a text file: CSV, TSV, JSON lines, CoNLL or BMES")
