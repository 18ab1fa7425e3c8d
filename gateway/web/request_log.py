"""Structured logs: one access line per HTTP request, JSON (``GATEWAY_LOG_FORMAT=json``) or text.

Every request gets an id: the caller's ``X-Request-Id`` when it is a short token, else a new
one. It is sent back in ``X-Request-Id``, named by every log line of the request (internal
errors carry it as ``requestId``, :mod:`gateway.limits.masking`, which logs their traceback
under it) and closes the request in the ``gateway.access`` logger::

    {"time": "...", "level": "INFO", "logger": "gateway.access",
     "message": "POST /graphql 200 3.1 ms", "request_id": "5b0c...", "method": "POST",
     "path": "/graphql", "status": 200, "duration_ms": 3.1, "principal": "jwt:alice",
     "operation": "Overview", "cost": 91, "cache": "hit"}

``principal`` is ``<credential kind>:<subject>`` (JWT ``sub`` or API key name); ``operation``,
``cost`` and ``cache`` (``hit``, ``shared``, ``miss``, ``bypass``) are null where they do not
apply (another route, a refused request). Parts of the app record them in the ASGI scope
(:func:`note`); nothing of a log line reaches a response.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
from typing import Any

from pythonjsonlogger.json import JsonFormatter
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.errors import REQUEST_ID, ServiceUnavailableError
from gateway.web.faults import send_internal_error, send_unavailable
from gateway.web.observability import KNOWN_PATHS, LATENCY, REQUESTS, StatusSend
from gateway.web.ratelimit import caller_label
from gateway.web.request_state import request_state
from gateway.web.security_headers import NOSNIFF

access_logger = logging.getLogger("gateway.access")
error_logger = logging.getLogger("gateway.error")

CLIENT_CLOSED = 499
"""The status recorded (never sent) for a request whose client went away mid-body."""

_CALLER_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_FIELDS = ("principal", "operation", "cost", "cache")


def note(scope: Scope, **fields: object) -> None:
    """Record access-line fields (``principal``, ``operation``, ``cost``, ``cache``)."""
    request_state(scope).log.update(fields)


def logging_access() -> bool:
    """True when access lines are written (``gateway.access`` at INFO): noting fields that
    cost something to compute is wasted otherwise."""
    return access_logger.isEnabledFor(logging.INFO)


def request_id(scope: Scope) -> str:
    """The caller's ``X-Request-Id`` if it is a short token, else a new random id."""
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text: str = value.decode("latin-1")
            if _CALLER_ID.fullmatch(text):
                return text
    return os.urandom(16).hex()  # random, as uuid4 but a third of the cost


def _fields(scope: Scope) -> dict[str, Any]:
    """The access-line fields the app noted, or learnt on the request's way."""
    state = request_state(scope)
    noted: dict[str, Any] = dict(state.log)
    principal = state.principal
    noted.setdefault("principal", caller_label(principal) if principal else None)
    noted.setdefault("operation", state.cost.operation)
    noted.setdefault("cost", state.cost.cost)
    noted.setdefault("cache", state.cache_outcome)
    return {name: noted.get(name) for name in _FIELDS}


class RequestLog:
    """ASGI middleware in front of everything else, fast hits included: a request id for every
    request, its count and latency in the HTTP metrics, its access line; a
    :class:`~gateway.errors.ServiceUnavailableError` raised before the response started is
    answered 503 with ``Retry-After`` (:func:`gateway.web.faults.send_unavailable`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request with its id set, then record and log it."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        rid = request_id(scope)
        token = REQUEST_ID.set(rid)
        sending = StatusSend(send, [(b"x-request-id", rid.encode()), NOSNIFF])
        try:
            await self.app(scope, receive, sending)
        except ServiceUnavailableError as exc:
            if sending.status:
                raise
            await send_unavailable(scope, sending, exc)  # stopped before execution
        except ClientDisconnect:
            sending.status = sending.status or CLIENT_CLOSED  # nobody is left to answer
        except Exception:
            # One JSON line with the traceback inside, under the request's id; the caller gets
            # the masked JSON 500 (nothing reaches Starlette's plain-text one or uvicorn's log).
            error_logger.exception("unhandled error", extra={"request_id": rid})
            if not sending.status:
                await send_internal_error(scope, sending, rid)
        finally:
            REQUEST_ID.reset(token)
            status = sending.status or 500
            path = scope["path"] if scope["path"] in KNOWN_PATHS else "other"
            REQUESTS.labels(path, scope["method"], str(status)).inc()
            LATENCY.labels(path).observe(time.perf_counter() - started)
            if logging_access():
                _log(scope, rid, status, started)


def _log(scope: Scope, rid: str, status: int, started: float) -> None:
    """Write the access line of a request."""
    duration = round((time.perf_counter() - started) * 1000, 1)
    method, path = scope["method"], scope["path"]
    fields = {"request_id": rid, "method": method, "path": path, "status": status}
    extra = {**fields, "duration_ms": duration, **_fields(scope)}
    access_logger.info("%s %s %d %.1f ms", method, path, status, duration, extra=extra)


class _TextFormatter(logging.Formatter):
    """Text lines; an access line ends with its fields as ``name=value``."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        if not hasattr(record, "request_id"):
            return line
        fields = " ".join(f"{n}={getattr(record, n, None)}" for n in ("request_id", *_FIELDS))
        return f"{line} {fields}"


HANDLER_NAME = "gateway"
"""Name of the handler :func:`configure_logging` installs (replaced, never duplicated)."""


def configure_logging(log_format: str, level: str) -> None:
    """Send the root logger's records to stderr as JSON lines or text, at ``level``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(HANDLER_NAME)
    if log_format == "json":
        handler.setFormatter(
            JsonFormatter(
                "{asctime}{levelname}{name}{message}",
                style="{",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(_TextFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
