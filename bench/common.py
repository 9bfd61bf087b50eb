"""Helpers shared by the benchmark scripts in ``bench/``.

Nothing here imports tuneforge, torch or transformers, so every benchmark script (the tuneforge
runs and the Hugging Face ``Trainer`` anchor alike) can use these helpers without biasing one side.

* :class:`PeakMemory` -- peak resident memory of this process and its children while a block runs.
* :func:`data_root` / :func:`require_data` -- where the real datasets live (``../shared/data``).
* :func:`subset_indices` -- the seeded subset formula every script must use, so that runs of
  different systems on ``--train-subset N`` see exactly the same examples.
* :func:`write_json`, :func:`markdown_table` -- reporting.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import psutil

__all__ = [
    "PeakMemory",
    "data_root",
    "markdown_table",
    "require_data",
    "subset_indices",
    "write_json",
]

_MB = 1024 * 1024


class PeakMemory:
    """Context manager recording the peak RSS of this process plus all its children.

    A daemon thread samples ``psutil`` RSS every ``interval`` seconds (50 ms by default); one sample
    is also taken on entry and on exit, so even a very short block has a value. Short spikes between
    two samples can be missed; ``ru_maxrss_mb`` (the kernel's own high-water mark for this process,
    from ``getrusage(RUSAGE_SELF)``) is kept as a second opinion. Note that ``ru_maxrss`` covers
    the whole life of the process, not only the ``with`` block, and excludes children.

    Attributes after (or during) the block:
        peak_mb: highest sampled RSS (self + children), in MiB.
        start_mb: RSS (self + children) when the block was entered, in MiB.
        ru_maxrss_mb: ``ru_maxrss`` of this process at exit, in MiB.
        samples: how many samples were taken.
    """

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.peak_mb = 0.0
        self.start_mb = 0.0
        self.ru_maxrss_mb = 0.0
        self.samples = 0
        self._proc = psutil.Process(os.getpid())
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def _rss_bytes(self) -> int:
        total = 0
        try:
            total += self._proc.memory_info().rss
            children = self._proc.children(recursive=True)
        except psutil.Error:
            return total
        for child in children:
            try:
                total += child.memory_info().rss
            except psutil.Error:  # the child exited between listing and reading it
                continue
        return total

    def sample(self) -> float:
        """Take one sample now; return it in MiB (also updates ``peak_mb``)."""
        mb = self._rss_bytes() / _MB
        with self._lock:
            self.samples += 1
            self.peak_mb = max(self.peak_mb, mb)
        return mb

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    @staticmethod
    def _ru_maxrss_mb() -> float:
        value = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        # Linux reports KiB, macOS reports bytes.
        return value / _MB if sys.platform == "darwin" else value / 1024

    def __enter__(self) -> PeakMemory:
        self.start_mb = self.sample()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="PeakMemory", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self.sample()
        self.ru_maxrss_mb = self._ru_maxrss_mb()

    def as_dict(self) -> dict[str, float | int]:
        return {
            "peak_rss_mb": round(self.peak_mb, 1),
            "start_rss_mb": round(self.start_mb, 1),
            "ru_maxrss_mb": round(self.ru_maxrss_mb, 1),
            "memory_samples": self.samples,
        }


def data_root(override: str | os.PathLike[str] | None = None) -> Path:
    """Folder holding the real datasets: ``<project>/../shared/data`` unless ``override`` is given."""
    if override is not None:
        return Path(override).expanduser().resolve()
    return Path(__file__).resolve().parents[1].parent / "shared" / "data"


def require_data(name: str, root: str | os.PathLike[str] | None = None) -> Path:
    """Return ``data_root(root) / name``; exit with a clear message if that folder is missing."""
    path = data_root(root) / name
    if not path.is_dir():
        sys.exit(
            f"../shared/data/{name} not found: {path} does not exist. The benchmarks read the real "
            f"datasets from the shared folder beside the project (see ../shared/data/README.md); "
            f"pass --data-root to point elsewhere."
        )
    return path


def subset_indices(n: int, k: int | None, seed: int) -> list[int]:
    """Indices of a seeded random subset of ``k`` out of ``n`` examples, in ascending order.

    The formula is ``sorted(numpy.random.default_rng(seed).permutation(n)[:k])``; every benchmark
    script uses it so that different systems given the same ``(n, k, seed)`` train and test on the
    very same examples. ``k=None`` (or ``k >= n``) means all of them: ``list(range(n))``.
    """
    if k is None or k >= n:
        return list(range(n))
    if k < 0:
        raise ValueError(f"subset size must be >= 0, got {k}")
    perm = np.random.default_rng(seed).permutation(n)[:k]
    return sorted(int(i) for i in perm)


def write_json(path: str | os.PathLike[str], obj: Any) -> Path:
    """Write ``obj`` as indented JSON (creating parent folders), atomically; return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if value != value:  # NaN
            return "nan"
        return f"{value:.1f}" if abs(value) >= 100 else f"{value:.4f}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def markdown_table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    """A GitHub-flavoured Markdown table of ``rows`` with the given ``columns`` (missing -> blank)."""
    header = "| " + " | ".join(_cell(c) for c in columns) + " |"
    rule = "| " + " | ".join("---" for _ in columns) + " |"
    body = ["| " + " | ".join(_cell(row.get(c)) for c in columns) + " |" for row in rows]
    return "\n".join([header, rule, *body])
