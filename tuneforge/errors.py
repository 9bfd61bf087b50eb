"""User-facing errors. Each says where the problem is and how to fix it; the CLI prints them
without a traceback and exits with code 2."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class TuneforgeError(Exception):
    """Base class of every error tuneforge raises on purpose."""

    exit_code = 2


class DataError(TuneforgeError):
    """A problem in the user's data: ``file:line:column: message (hint)``."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        column: str | int | None = None,
        hint: str | None = None,
    ) -> None:
        self.message, self.file, self.line, self.column, self.hint = message, file, line, column, hint
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = str(self.file)
            if self.line is not None:
                where += f":{self.line}"
            where += ": "
        col = f"column {self.column!r}: " if self.column is not None else ""
        hint = f" Hint: {self.hint}" if self.hint else ""
        message = self.message if self.message.endswith((".", "?", "!")) else self.message + "."
        return f"{where}{col}{message}{hint}"


class ConfigError(TuneforgeError):
    """A problem in a recipe or in command-line options."""


class RunError(TuneforgeError):
    """A run directory that is missing, incomplete or inconsistent."""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``" Did you mean 'x'?"`` for the closest choice, or ``""`` if none is close."""
    pool = list(choices)
    lowered = {c.lower(): c for c in pool}
    if word.lower() in lowered:
        return f" Did you mean {lowered[word.lower()]!r}?"
    close = difflib.get_close_matches(word, pool, n=1, cutoff=0.6)
    if not close:
        close = [lowered[m] for m in difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)]
    return f" Did you mean {close[0]!r}?" if close else ""
