"""The real server, started by the tests on a loopback port: valid, malformed, oversized and
unauthorised requests with their status codes; micro-batching of concurrent requests; graceful
shutdown that answers every accepted request; ONNX serving."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

import tuneforge
from tests.conftest import tiny_recipe

TOKEN = "s3cret-token"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, run, *options: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "TF_TOKEN": TOKEN}
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tuneforge.cli",
                "serve",
                str(run),
                "--port",
                str(self.port),
                "--log-level",
                "warning",
                *options,
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.time() + 180
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited: {self.proc.stderr.read()}")
            try:
                if httpx.get(self.url + "/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError("server did not become ready")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=60)


def _metric(text: str, name: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


@pytest.fixture(scope="module")
def classifier(demo_data, tmp_path_factory):
    recipe = tiny_recipe(demo_data, "classification", tmp_path_factory.mktemp("serve") / "run", epochs=1)
    return tuneforge.run(recipe, quiet=True).path


@pytest.fixture(scope="module")
def server(classifier):
    srv = Server(
        classifier, "--token-env", "TF_TOKEN", "--max-texts", "8", "--max-text-chars", "200",
        "--max-body-bytes", "20000", "--max-wait-ms", "100", "--max-batch-size", "64",
    )  # fmt: skip
    yield srv
    srv.stop()


AUTH = {"Authorization": f"Bearer {TOKEN}"}


def test_valid_request_and_model_info(server, classifier):
    r = httpx.post(server.url + "/v1/predict", json={"texts": ["my card is lost", "hello"]}, headers=AUTH)
    assert r.status_code == 200, r.text
    preds = r.json()["predictions"]
    assert len(preds) == 2 and preds[0]["label"] and abs(sum(preds[0]["probabilities"].values()) - 1) < 0.01
    expected = tuneforge.load(classifier).predict(["my card is lost"])[0].label
    assert preds[0]["label"] == expected
    info = httpx.get(server.url + "/v1/model", headers=AUTH).json()
    assert info["task"] == "classification" and info["format"] == "torch" and "test" in info["metrics"]
    assert httpx.get(server.url + "/healthz").json() == {"status": "ok"}
    assert httpx.get(server.url + "/docs").status_code == 200
    assert "/v1/predict" in httpx.get(server.url + "/openapi.json").json()["paths"]


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic " + TOKEN}, {"Authorization": TOKEN}],
    ids=["none", "wrong", "basic", "bare"],
)
def test_unauthorised_requests_get_401(server, headers):
    r = httpx.post(server.url + "/v1/predict", json={"texts": ["hi"]}, headers=headers)
    assert r.status_code == 401 and r.json()["error"]["type"] == "unauthorized"
    assert r.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    ("body", "status", "kind"),
    [
        (b"{not json", 422, "invalid_request"),
        (json.dumps({"texts": "just a string"}).encode(), 422, "invalid_request"),
        (json.dumps({"texts": []}).encode(), 422, "invalid_request"),
        (json.dumps({"texts": [1, 2]}).encode(), 422, "invalid_request"),
        (json.dumps({"texts": ["ok"], "extra": 1}).encode(), 422, "invalid_request"),
        (json.dumps({"text": ["ok"]}).encode(), 422, "invalid_request"),
        (json.dumps({"texts": ["   "]}).encode(), 422, "invalid_request"),
        (json.dumps({"texts": ["x" * 201]}).encode(), 422, "text_too_long"),
        (json.dumps({"texts": ["a"] * 9}).encode(), 413, "too_many_texts"),
        (json.dumps({"texts": ["a" * 150] * 200}).encode(), 413, "body_too_large"),
        (b"\xff\xfe\x00garbage", 422, "invalid_request"),
    ],
    ids=[
        "bad-json",
        "string",
        "empty-list",
        "numbers",
        "extra-key",
        "wrong-key",
        "blank",
        "long",
        "many",
        "big",
        "bytes",
    ],
)
def test_bad_requests_get_a_clear_4xx(server, body, status, kind):
    r = httpx.post(
        server.url + "/v1/predict", content=body, headers={**AUTH, "Content-Type": "application/json"}
    )
    assert r.status_code == status, r.text
    assert r.json()["error"]["type"] == kind and r.json()["error"]["message"]


def test_streamed_oversized_body_is_refused(server):
    def chunks():
        yield b'{"texts": ["'
        for _ in range(50):
            yield b"a" * 1000
        yield b'"]}'

    r = httpx.post(
        server.url + "/v1/predict", content=chunks(), headers={**AUTH, "Content-Type": "application/json"}
    )
    assert r.status_code == 413 and r.json()["error"]["type"] == "body_too_large"


def test_concurrent_requests_are_batched_together(server):
    before = httpx.get(server.url + "/metrics").text

    async def burst():
        async with httpx.AsyncClient(timeout=60) as client:
            return await asyncio.gather(
                *[
                    client.post(
                        server.url + "/v1/predict", json={"texts": [f"text number {i}"]}, headers=AUTH
                    )
                    for i in range(16)
                ]
            )

    responses = asyncio.run(burst())
    assert all(r.status_code == 200 for r in responses)
    after = httpx.get(server.url + "/metrics").text
    texts = _metric(after, "tuneforge_batch_size_sum") - _metric(before, "tuneforge_batch_size_sum")
    calls = _metric(after, "tuneforge_batch_size_count") - _metric(before, "tuneforge_batch_size_count")
    assert texts == 16 and calls < 16, (texts, calls)
    assert _metric(after, "tuneforge_requests_total") > 16
    assert "tuneforge_request_seconds_bucket" in after


def test_graceful_shutdown_answers_every_accepted_request(classifier):
    srv = Server(classifier, "--max-wait-ms", "3000", "--max-batch-size", "1000")

    async def burst():
        async with httpx.AsyncClient(timeout=60) as client:
            tasks = [
                asyncio.create_task(client.post(srv.url + "/v1/predict", json={"texts": [f"t{i}"] * 4}))
                for i in range(12)
            ]
            deadline = time.time() + 30
            while time.time() < deadline:  # until all 12 are accepted and waiting in the batch queue
                metrics = (await client.get(srv.url + "/metrics")).text
                if _metric(metrics, "tuneforge_in_flight_requests") >= 13:  # 12 + this one
                    break
                await asyncio.sleep(0.05)
            srv.proc.send_signal(signal.SIGTERM)
            return await asyncio.gather(*tasks)

    responses = asyncio.run(burst())
    assert [r.status_code for r in responses] == [200] * 12
    assert all(len(r.json()["predictions"]) == 4 for r in responses)
    assert srv.proc.wait(timeout=60) in (0, -signal.SIGTERM)  # uvicorn re-raises the signal once drained
    assert "Traceback" not in srv.proc.stderr.read()
    with pytest.raises(httpx.ConnectError):
        httpx.get(srv.url + "/healthz", timeout=2)


def test_ner_model_served_from_its_onnx_export(demo_data, tmp_path):
    run = tuneforge.run(tiny_recipe(demo_data, "ner", tmp_path / "ner", epochs=1), quiet=True).path
    srv = Server(run, "--onnx", "fp32")
    try:
        info = httpx.get(srv.url + "/v1/model").json()
        assert info["format"] == "onnx" and info["parity"]["agreement"] == 1.0
        r = httpx.post(srv.url + "/v1/predict", json={"texts": ["Anna Berg flew to Oslo"]})
        assert r.status_code == 200 and "entities" in r.json()["predictions"][0]
        assert (run / "exports" / "onnx" / "model.onnx").is_file()
    finally:
        assert srv.stop() in (0, -signal.SIGTERM)
