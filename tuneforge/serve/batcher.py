"""Dynamic micro-batching: texts of concurrent requests are gathered into one model call.

A request's texts join a queue. While the model runs one batch, new requests wait in the queue; when
it is free, the collector takes every waiting request (up to ``max_batch_size`` texts), optionally
waits up to ``max_wait_ms`` for more, runs the model once (in a worker thread, so the event loop stays
free) and hands each request its own slice of the results. Under load batches form by themselves;
alone, a request is not delayed. With ``max_batch_size=1`` requests run one at a time (the baseline)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class _Job:
    texts: Sequence[str]
    future: asyncio.Future
    enqueued: float = field(default_factory=time.perf_counter)


class MicroBatcher:
    def __init__(
        self,
        run_batch: Callable[[list[str]], list[Any]],
        max_batch_size: int = 32,
        max_wait_ms: float = 5.0,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        self.run_batch = run_batch
        self.max_batch_size = max_batch_size
        self.max_wait = max_wait_ms / 1000.0
        self.on_batch = on_batch
        self._queue: asyncio.Queue[_Job] = asyncio.Queue()
        self._task: asyncio.Task | None = None
        self._busy = False

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._collect())

    async def stop(self) -> None:
        """Finish every queued job, then stop."""
        while not self._queue.empty() or self._busy:
            await asyncio.sleep(0.01)
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def submit(self, texts: Sequence[str]) -> list[Any]:
        job = _Job(texts, asyncio.get_running_loop().create_future())
        await self._queue.put(job)
        return await job.future

    async def _collect(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            first = await self._queue.get()
            self._busy = True
            jobs, size = [first], len(first.texts)
            while size < self.max_batch_size and not self._queue.empty():  # what waited meanwhile
                job = self._queue.get_nowait()
                jobs.append(job)
                size += len(job.texts)
            deadline = loop.time() + self.max_wait
            while size < self.max_batch_size:  # then, optionally, wait a little for company
                timeout = deadline - loop.time()
                if timeout <= 0:
                    break
                try:
                    job = await asyncio.wait_for(self._queue.get(), timeout)
                except TimeoutError:
                    break
                jobs.append(job)
                size += len(job.texts)
            try:
                await self._run(jobs, size)
            finally:
                self._busy = False

    async def _run(self, jobs: list[_Job], size: int) -> None:
        texts = [t for job in jobs for t in job.texts]
        try:
            results = await asyncio.to_thread(self.run_batch, texts)
        except Exception as err:  # one bad batch fails its own requests, never the server
            for job in jobs:
                if not job.future.done():
                    job.future.set_exception(err)
            return
        if self.on_batch:
            self.on_batch(size)
        start = 0
        for job in jobs:
            part = results[start : start + len(job.texts)]
            start += len(job.texts)
            if not job.future.done():  # a timed-out request has gone; its results are dropped
                job.future.set_result(part)
