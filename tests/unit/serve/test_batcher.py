"""The micro-batcher on its own: results go back to the right request, batches respect the size
limit, a failing batch fails only its own requests, and stop() finishes queued work."""

from __future__ import annotations

import asyncio
import threading

import pytest

from tuneforge.serve.batcher import MicroBatcher


def _run(coro):
    return asyncio.run(coro)


def test_results_are_routed_and_batches_are_bounded():
    sizes: list[int] = []
    gate = threading.Event()

    def model(texts):
        gate.wait(1)  # the first call blocks a moment, so the others queue up behind it
        return [t.upper() for t in texts]

    async def main():
        b = MicroBatcher(model, max_batch_size=4, max_wait_ms=0, on_batch=sizes.append)
        b.start()
        tasks = [asyncio.create_task(b.submit([f"a{i}", f"b{i}"])) for i in range(6)]
        await asyncio.sleep(0.05)
        gate.set()
        out = await asyncio.gather(*tasks)
        await b.stop()
        return out

    out = _run(main())
    assert out == [[f"A{i}", f"B{i}"] for i in range(6)]
    assert sum(sizes) == 12 and max(sizes) <= 4 and len(sizes) < 6, sizes


def test_a_failing_batch_fails_only_its_requests():
    def model(texts):
        if "bad" in texts:
            raise ValueError("boom")
        return texts

    async def main():
        b = MicroBatcher(model, max_batch_size=1, max_wait_ms=0)
        b.start()
        bad = asyncio.create_task(b.submit(["bad"]))
        good = asyncio.create_task(b.submit(["good"]))
        with pytest.raises(ValueError):
            await bad
        assert await good == ["good"]
        await b.stop()

    _run(main())


def test_stop_finishes_queued_work():
    def model(texts):
        return [len(t) for t in texts]

    async def main():
        b = MicroBatcher(model, max_batch_size=2, max_wait_ms=50)
        b.start()
        tasks = [asyncio.create_task(b.submit(["xx"])) for _ in range(5)]
        await asyncio.sleep(0)
        await b.stop()
        return [t.result() for t in tasks if t.done()]

    assert _run(main()) == [[2]] * 5
