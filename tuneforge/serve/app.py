"""The HTTP API. ``create_app(predictor, settings)`` -> FastAPI application.

- ``POST /v1/predict``  {"texts": [...]} -> {"predictions": [...]} (labels + probabilities, or spans)
- ``GET /v1/model``     task, labels, backbone, method, format, metrics of the run
- ``GET /healthz``      the process is up; ``GET /readyz`` the model is loaded and not shutting down
- ``GET /metrics``      Prometheus text: requests by route and status, latency and batch-size histograms
- ``GET /docs``, ``/openapi.json``

Every error is a JSON body ``{"error": {"type", "message"}}`` with a 4xx status: 401 without the
bearer token (when one is set), 413 for an oversized body or too many texts, 422 for a malformed
request, 504 when the request waited longer than the timeout."""

from __future__ import annotations

import asyncio
import hmac
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__
from ..errors import TuneforgeError
from .batcher import MicroBatcher


@dataclass
class ServeSettings:
    max_batch_size: int = 32  # texts per model call; 1 disables micro-batching
    max_wait_ms: float = 0.0  # extra wait for company once the model is free (batches form under load anyway)
    model_batch_size: int = 16  # texts per forward pass: a batch is sorted by length and cut into these
    max_body_bytes: int = 1_000_000
    max_texts: int = 256  # per request
    max_text_chars: int = 10_000  # per text
    token: str | None = None  # bearer token; None: no authentication
    timeout_s: float = 30.0  # per request, queueing included


class ApiError(Exception):
    def __init__(self, status: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.status, self.kind, self.message = status, kind, message


def _error(status: int, kind: str, message: str, **extra: Any) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(
        {"error": {"type": kind, "message": message, **extra}}, status_code=status, headers=headers
    )


class PredictRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    texts: list[str] = Field(..., min_length=1, description="the texts to label (at least one)")


class PredictResponse(BaseModel):
    predictions: list[dict[str, Any]]


class _Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "tuneforge_requests", "HTTP requests", ["route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "tuneforge_request_seconds",
            "request latency",
            ["route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.batch = Histogram(
            "tuneforge_batch_size",
            "texts per model call",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "tuneforge_in_flight_requests", "requests being served", registry=self.registry
        )


def create_app(
    predictor: Any, settings: ServeSettings | None = None, info: dict[str, Any] | None = None
) -> FastAPI:
    settings = settings or ServeSettings()
    metrics = _Metrics()
    state: dict[str, Any] = {"ready": False, "shutting_down": False}

    def run_batch(texts: list[str]) -> list[dict[str, Any]]:
        return [p.to_dict() for p in predictor.predict(texts, batch_size=settings.model_batch_size)]

    batcher = MicroBatcher(run_batch, settings.max_batch_size, settings.max_wait_ms, metrics.batch.observe)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        batcher.start()
        state["ready"] = True
        yield
        state["ready"] = False
        await batcher.stop()

    app = FastAPI(
        title="tuneforge model server",
        version=__version__,
        lifespan=lifespan,
        description="Predictions of one fine-tuned tuneforge model.",
    )
    app.state.serve = state
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)

    app.add_middleware(Observe, metrics=metrics)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"where": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("msg", "")}
            for e in exc.errors()
        ]
        first = details[0] if details else {"where": "body", "problem": "malformed"}
        return _error(422, "invalid_request", f"{first['where']}: {first['problem']}", details=details)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:  # the body could not be decoded at all
            return _error(422, "invalid_request", "body: not a UTF-8 JSON document")
        kind = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}.get(
            exc.status_code, "http_error"
        )
        return _error(exc.status_code, kind, str(exc.detail))

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return _error(exc.status, exc.kind, exc.message)

    @app.exception_handler(TuneforgeError)
    async def tuneforge_error(_: Request, exc: TuneforgeError) -> JSONResponse:
        return _error(422, "invalid_input", str(exc))

    def authorised(request: Request) -> None:
        if settings.token is None:
            return
        header = request.headers.get("authorization", "")
        scheme, _, given = header.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), settings.token.encode()):
            raise ApiError(401, "unauthorized", "a valid 'Authorization: Bearer <token>' header is required")

    @app.post("/v1/predict", response_model=PredictResponse, dependencies=[Depends(authorised)])
    async def predict(body: PredictRequest) -> dict[str, Any]:
        """Labels with class probabilities (classification), or tags and entity spans (NER)."""
        if len(body.texts) > settings.max_texts:
            raise ApiError(
                413, "too_many_texts", f"{len(body.texts)} texts; at most {settings.max_texts} per request"
            )
        for i, text in enumerate(body.texts):
            if not text.strip():
                raise ApiError(422, "invalid_request", f"texts.{i}: the text is empty")
            if len(text) > settings.max_text_chars:
                raise ApiError(
                    422,
                    "text_too_long",
                    f"texts.{i}: {len(text)} characters; at most {settings.max_text_chars}",
                )
        if not state["ready"]:
            raise ApiError(503, "not_ready", "the model is not ready")
        try:
            results = await asyncio.wait_for(batcher.submit(body.texts), settings.timeout_s)
        except TimeoutError:
            raise ApiError(504, "timeout", f"no answer within {settings.timeout_s} s") from None
        return {"predictions": results}

    @app.get("/v1/model", dependencies=[Depends(authorised)])
    async def model_info() -> dict[str, Any]:
        """What the server runs: task, labels, backbone, method, format and the run's metrics."""
        return info or {}

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> Response:
        if state["ready"] and not state["shutting_down"]:
            return JSONResponse({"status": "ready"})
        return _error(503, "not_ready", "starting or shutting down")

    @app.get("/metrics")
    async def prometheus() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app


class Observe:
    """ASGI middleware: count requests by route and status, time them, track the in-flight gauge.
    An exception that escapes the application becomes a JSON 500 (never expected; counted)."""

    def __init__(self, app: Any, metrics: _Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = scope["path"] if scope["path"] in KNOWN_ROUTES else "other"
        status = {"code": 500}
        started = time.perf_counter()

        async def observed_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                status["sent"] = True
            await send(message)

        self.metrics.in_flight.inc()
        try:
            await self.app(scope, receive, observed_send)
        except Exception as err:  # noqa: BLE001  the last line of defence
            if not status.get("sent"):
                await _error(500, "internal_error", f"{type(err).__name__}: {err}")(scope, receive, send)
        finally:
            self.metrics.in_flight.dec()
            self.metrics.requests.labels(route, str(status["code"])).inc()
            self.metrics.latency.labels(route).observe(time.perf_counter() - started)


class BodyLimit:
    """ASGI middleware: refuse bodies over ``limit`` bytes, by Content-Length or while streaming."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        message = f"the request body is over {self.limit} bytes"
        length = dict(scope.get("headers", [])).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            await _error(413, "body_too_large", message)(scope, receive, send)
            return
        received = 0

        async def limited() -> dict[str, Any]:
            nonlocal received
            msg = await receive()
            if msg["type"] == "http.request":
                received += len(msg.get("body", b""))
                if received > self.limit:  # turned into a JSON 413 by the exception handler
                    raise StarletteHTTPException(413, message)
            return msg

        await self.app(scope, limited, send)


KNOWN_ROUTES = {"/v1/predict", "/v1/model", "/healthz", "/readyz", "/metrics", "/docs", "/openapi.json"}
