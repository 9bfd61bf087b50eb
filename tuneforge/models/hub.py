"""Hugging Face hub ids (``bert-base-cased``, ``org/name``) as backbones.

A hub id already in the local Hugging Face cache is used as it is, offline. Otherwise it is
downloaded, but only when the machine is online: with ``HF_HUB_OFFLINE=1`` (or
``TRANSFORMERS_OFFLINE=1``), or when the hub does not answer within a few seconds, the answer is a
ConfigError at once, never a hang."""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Iterable
from urllib.parse import urlparse

from ..errors import ConfigError

# what a model needs; not every framework's copy of the weights
ALLOW = ["*.json", "*.safetensors", "*.txt", "*.model", "*.jinja", "tokenizer*", "vocab*", "merges*"]
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]{0,95}(/[\w.-]{1,96})?$")
CONNECT_TIMEOUT_S = 3.0


def looks_like_hub_id(name: str) -> bool:
    return bool(_HUB_ID.match(name)) and ".." not in name and not name.endswith((".", "-"))


def offline() -> bool:
    """Offline mode as huggingface_hub reads it, checked now (not only when it was imported)."""
    return any(
        os.environ.get(var, "").strip().lower() in ("1", "on", "yes", "true")
        for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )


def reachable(timeout: float = CONNECT_TIMEOUT_S) -> bool:
    """Whether the hub's host accepts a TCP connection within ``timeout`` seconds."""
    url = urlparse(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname or "huggingface.co", port), timeout=timeout):
            return True
    except OSError:
        return False


def cached_snapshot(repo_id: str) -> str | None:
    """The folder of ``repo_id`` in the local Hugging Face cache, if a complete snapshot is there."""
    from huggingface_hub import snapshot_download

    try:
        folder = snapshot_download(repo_id, local_files_only=True, allow_patterns=ALLOW)
    except Exception:  # noqa: BLE001  not cached (LocalEntryNotFoundError) or an unusable cache entry
        return None
    return folder if os.path.isfile(os.path.join(folder, "config.json")) else None


def _help(known: Iterable[str]) -> str:
    return (
        f"known names are {', '.join(known)}; or give the path of a local Hugging Face model "
        "folder (one with config.json and tokenizer files, e.g. saved with save_pretrained or copied from "
        "a machine that is online)"
    )


def resolve_hub(repo_id: str, known: Iterable[str], hint: str = "") -> str:
    """A local folder holding ``repo_id``: from the cache, else downloaded when online. ``hint`` (a
    did-you-mean sentence) ends the error messages."""
    known = list(known)
    folder = cached_snapshot(repo_id)
    if folder is not None:
        return folder
    why = "hub downloads are off (HF_HUB_OFFLINE=1)" if offline() else None
    if why is None and not reachable():
        why = f"the hub ({os.environ.get('HF_ENDPOINT') or 'huggingface.co'}) cannot be reached"
    if why:
        raise ConfigError(
            f"backbone {repo_id!r} is not a known name, a local folder, or a hub id in the local cache, and "
            f"{why}: {_help(known)}.{hint}"
        )
    from huggingface_hub import snapshot_download

    try:
        folder = snapshot_download(repo_id, allow_patterns=ALLOW, etag_timeout=CONNECT_TIMEOUT_S * 2)
    except Exception as err:  # noqa: BLE001  unknown repository, gated model, network error
        raise ConfigError(
            f"backbone {repo_id!r}: downloading it from the hub failed ({type(err).__name__}: "
            f"{str(err).splitlines()[0] if str(err) else ''}); {_help(known)}.{hint}"
        ) from None
    if not os.path.isfile(os.path.join(folder, "config.json")):
        raise ConfigError(f"hub repository {repo_id!r} has no config.json: it is not a transformers model")
    return folder
