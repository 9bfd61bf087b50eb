"""A lean closed-loop HTTP/1.1 load generator for the serving benchmark.

The client shares the machine's cores with the server, so every CPU cycle it spends per request is
taken from the server under test. This one keeps that to a minimum: one keep-alive connection per
worker (``asyncio`` streams, uvloop when installed), requests encoded once up front, responses read
by ``Content-Length`` (or chunked encoding) without a general-purpose HTTP client in between.

    stats = asyncio.run(closed_loop("http://127.0.0.1:8000", "/v1/predict", bodies, 32, 400))
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit


def encode_request(host: str, path: str, body: bytes, headers: dict[str, str] | None = None) -> bytes:
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {host}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        *(f"{k}: {v}" for k, v in (headers or {}).items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """``(status, body, keep_alive)`` of one response."""
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head[:-4].decode("latin-1").split("\r\n")
    status = int(status_line.split(" ", 2)[1])
    fields = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        fields[name.strip().lower()] = value.strip()
    if "content-length" in fields:
        body = await reader.readexactly(int(fields["content-length"]))
    elif fields.get("transfer-encoding", "").lower() == "chunked":
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n"))[:-2].split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                break
            parts.append(chunk[:-2])
        body = b"".join(parts)
    else:
        body = await reader.read()
        return status, body, False
    return status, body, fields.get("connection", "").lower() != "close"


async def closed_loop(
    url: str,
    path: str,
    bodies: Sequence[bytes],
    concurrency: int,
    total: int,
    headers: dict[str, str] | None = None,
    warmup: int = 20,
) -> dict[str, Any]:
    """``concurrency`` workers send ``total`` requests (``bodies`` in turn), each waiting for its answer
    before sending the next; throughput, latency percentiles and status counts."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    requests = [encode_request(f"{host}:{port}", path, b, headers) for b in bodies]
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    counter = iter(range(total))

    async def send(conn: list[Any], request: bytes) -> int:
        if conn[0] is None:
            conn[0], conn[1] = await asyncio.open_connection(host, port)
        reader, writer = conn
        writer.write(request)
        status, _, keep = await read_response(reader)
        if not keep:
            writer.close()
            conn[0] = conn[1] = None
        return status

    async def worker(ids: Any) -> None:
        conn: list[Any] = [None, None]
        try:
            for i in ids:
                t0 = time.perf_counter()
                status = await send(conn, requests[i % len(requests)])
                latencies.append(time.perf_counter() - t0)
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            if conn[1] is not None:
                conn[1].close()

    await worker(range(min(warmup, len(requests))))
    latencies.clear()
    statuses.clear()
    started = time.perf_counter()
    await asyncio.gather(*[worker(counter) for _ in range(concurrency)])
    elapsed = time.perf_counter() - started
    lat = sorted(latencies)
    return {
        "requests_per_s": total / elapsed,
        "p50_ms": 1000 * lat[len(lat) // 2],
        "p99_ms": 1000 * lat[min(len(lat) - 1, int(0.99 * len(lat)))],
        "non_200": sum(v for k, v in statuses.items() if k != 200),
        "statuses": statuses,
    }


def run(coro: Any) -> Any:
    """``asyncio.run`` on uvloop when it is installed (a cheaper event loop for the client too)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)
