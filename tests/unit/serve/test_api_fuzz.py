"""Property-based fuzzing of the request schema, in process: whatever the body, the server answers
200 or one of its clear 4xx JSON errors, never a 5xx."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tuneforge.serve.app import ServeSettings, create_app
from tuneforge.types import Prediction


class EchoModel:
    """Labels a text by its length parity; enough to exercise the API without a network."""

    def predict(self, texts, batch_size=64):
        return [
            Prediction(label="even" if len(t) % 2 == 0 else "odd", probabilities={"even": 0.5, "odd": 0.5})
            for t in texts
        ]


LIMITS = ServeSettings(max_texts=5, max_text_chars=50, max_body_bytes=2000, max_wait_ms=0, token=None)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=60),
    lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=8,
)
bodies = st.one_of(
    json_values.map(lambda v: json.dumps(v).encode()),
    st.dictionaries(st.sampled_from(["texts", "text", "extra"]), json_values, max_size=3).map(
        lambda v: json.dumps(v).encode()
    ),
    st.lists(st.text(max_size=70), max_size=8).map(lambda ts: json.dumps({"texts": ts}).encode()),
    st.binary(max_size=300),
)


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(EchoModel(), LIMITS, {"task": "classification"})) as c:
        yield c


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies)
def test_any_body_gets_200_or_a_clear_4xx(client, body):
    r = client.post("/v1/predict", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code in (200, 413, 422), (r.status_code, r.text)
    payload = r.json()
    if r.status_code == 200:
        texts = json.loads(body)["texts"]
        assert len(payload["predictions"]) == len(texts)
    else:
        assert set(payload["error"]) >= {"type", "message"} and payload["error"]["message"]


def test_routes_and_methods_that_do_not_exist(client):
    assert client.get("/v2/predict").status_code == 404
    assert client.get("/v1/predict").json()["error"]["type"] == "method_not_allowed"
    assert client.get("/readyz").status_code == 200
