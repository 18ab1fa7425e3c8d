"""``POST /v1/events`` under hostile bodies (issue 14.3): compressed bodies are decoded with a
bound (a bomb is 413 with nothing stored), unknown encodings are 415, a deeply nested element of
an array body is quarantined while the rest is stored; ``gateway ingest`` never reports a crash
as quarantine.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from gateway.cli.ingest import EXIT_FAILED, EXIT_QUARANTINED
from gateway.roles import Role
from gateway.settings import Settings
from gateway.store import tables as t
from gateway.store.ingest.quarantine import set_quarantine_max_rows
from tests.cache_http.support import Gateway, http_settings, serve
from tests.principals import principal
from tests.store.ingest_support import catalog, launch, line, lines

INGESTER = principal(Role.INGESTER)
BODY = b"".join(lines([*catalog(), launch("e1"), launch("e2")]))


@pytest.fixture
async def gateway(settings: Settings) -> AsyncIterator[Gateway]:
    async with serve(http_settings(settings, None, max_request_bytes=64 * 1024)) as served:
        yield served


async def _post(gateway: Gateway, body: bytes, encoding: str | None) -> tuple[int, Any]:
    headers = gateway.headers(INGESTER)
    if encoding is not None:
        headers["Content-Encoding"] = encoding
    response = await gateway.http.post("/v1/events", content=body, headers=headers)
    return response.status_code, response.json()


async def _launches(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(t.launches)) or 0)


def _raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("gzip", gzip.compress),
        ("GZip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", _raw_deflate),
        ("identity", bytes),
    ],
)
async def test_compressed_bodies_are_decoded(
    gateway: Gateway, engine: AsyncEngine, encoding: str, encode: Callable[[bytes], bytes]
) -> None:
    body = encode(BODY)
    status, answer = await _post(gateway, body, encoding)
    assert status == 200, answer
    assert answer["stored"] == 7
    assert await _launches(engine) == 2


async def test_a_compression_bomb_is_refused_with_nothing_stored(
    gateway: Gateway, engine: AsyncEngine
) -> None:
    bomb = gzip.compress(BODY + b" " * (10 * 1024 * 1024))  # 10 MB inflated, ~10 KB packed
    assert len(bomb) < 64 * 1024  # within the body limit as sent
    status, answer = await _post(gateway, bomb, "gzip")
    assert status == 413
    assert answer["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert await _launches(engine) == 0


@pytest.mark.parametrize("encoding", ["br", "compress", "gzip, gzip", "x-custom"])
async def test_other_encodings_are_415(gateway: Gateway, encoding: str) -> None:
    status, answer = await _post(gateway, BODY, encoding)
    assert status == 415
    assert "Content-Encoding" in answer["error"]["message"]


async def test_a_body_that_is_not_what_it_claims_is_400(gateway: Gateway) -> None:
    status, _ = await _post(gateway, BODY, "gzip")
    assert status == 400
    status, _ = await _post(gateway, gzip.compress(BODY)[:-10], "gzip")
    assert status == 400


async def test_a_deep_element_of_an_array_is_quarantined_and_the_rest_stored(
    gateway: Gateway, engine: AsyncEngine
) -> None:
    deep = b'{"kind": "launch", "x": ' + b"[" * 20_000 + b"]" * 20_000 + b"}"
    items = [line(r).strip() for r in [*catalog(), launch("e1")]]
    items += [deep, line(launch("e2")).strip()]
    status, answer = await _post(gateway, b"[" + b", ".join(items) + b"]", None)
    assert status == 207, answer
    assert answer["quarantined"] == 1
    assert [p["line"] for p in answer["problems"]] == [7]
    assert await _launches(engine) == 2


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    from gateway.cli import app

    monkeypatch.setenv("GATEWAY_DATABASE_URL", settings.database_url)
    return app


def test_ingest_exit_codes_tell_quarantine_from_failure(cli: typer.Typer, tmp_path: Path) -> None:
    good = tmp_path / "good.jsonl"
    deep = b'{"kind": "launch", "x": ' + b"[" * 20_000 + b"\n"
    good.write_bytes(b"".join(lines(catalog())) + deep)
    result = CliRunner().invoke(cli, ["ingest", str(good)])
    assert result.exit_code == EXIT_QUARANTINED, result.output  # judged: one line quarantined
    broken = tmp_path / "broken.jsonl.gz"
    broken.write_bytes(gzip.compress(b"".join(lines(catalog())))[:-20])  # a truncated gzip
    result = CliRunner().invoke(cli, ["ingest", str(broken)])
    assert result.exit_code == EXIT_FAILED, result.output
    assert "the ingest stopped" in result.output


async def test_a_full_quarantine_is_507_with_nothing_of_the_body_stored(
    gateway: Gateway, engine: AsyncEngine
) -> None:
    set_quarantine_max_rows(1)
    try:
        status, answer = await _post(gateway, BODY + b"bad 1\nbad 2\n", None)
    finally:
        set_quarantine_max_rows(1_000_000)
    assert status == 507
    assert answer["error"]["code"] == "QUARANTINE_FULL"
    assert await _launches(engine) == 0
