"""Trusted documents: the manifest formats, a bad manifest stopping the start, and who may run
what for ``everyone`` and ``api-keys``."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from gateway.app import create_app
from gateway.settings import Settings
from gateway.web.trusted import ManifestError, load_manifest, parse_manifest
from tests.http.support import (
    GRAPHQL_RESPONSE,
    TYPENAME,
    WORKSPACES,
    answer,
    apq,
    post,
    sha256,
)
from tests.limits.conftest import Serve
from tests.limits.support import codes

LISTED = WORKSPACES
UNLISTED = "{ workspaces(first: 1) { totalCount } }"


def _apollo(*documents: str) -> dict[str, object]:
    operations = [{"id": sha256(d), "name": "Op", "type": "query", "body": d} for d in documents]
    return {"format": "apollo-persisted-query-manifest", "version": 1, "operations": operations}


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    """A flat manifest listing :data:`LISTED` only."""
    path = tmp_path / "trusted.json"
    path.write_bytes(orjson.dumps({sha256(LISTED): LISTED}))
    return path


def test_both_manifest_formats_read_the_same(tmp_path: Path) -> None:
    flat = {sha256(LISTED): LISTED, sha256(TYPENAME): TYPENAME}
    assert parse_manifest(flat, "flat") == flat
    assert parse_manifest(_apollo(LISTED, TYPENAME), "apollo") == flat
    path = tmp_path / "m.json"
    path.write_bytes(orjson.dumps(_apollo(LISTED)))
    assert load_manifest(path) == {sha256(LISTED): LISTED}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "not JSON"),
        (b"[]", "a manifest is a JSON object"),
        (b"{}", "lists no operation"),
        (orjson.dumps({"abc": TYPENAME}), "is not the SHA-256 of its document"),
        (orjson.dumps({sha256("{ x"): "{ x"}), "does not parse"),
        (orjson.dumps({sha256(TYPENAME): 7}), "must map a hash to a document"),
        (orjson.dumps({**_apollo(TYPENAME), "version": 2}), "needs version 1"),
    ],
    ids=["not-json", "array", "empty", "wrong-hash", "bad-document", "not-text", "apollo-v2"],
)
def test_bad_manifest_stops_the_start(
    tmp_path: Path, settings: Settings, content: bytes, message: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(ManifestError, match=message):
        create_app(settings.model_copy(update={"trusted_documents_file": path}))


def test_missing_manifest_stops_the_start(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "absent.json"
    with pytest.raises(ManifestError, match="cannot read"):
        create_app(settings.model_copy(update={"trusted_documents_file": path}))


async def test_everyone_runs_listed_operations_only(
    serve: Serve, manifest: Path, admin: dict[str, str], executions: list[str]
) -> None:
    async with serve(trusted_documents_file=manifest) as http:
        by_hash = await post(http, apq(LISTED), admin)  # no registration needed
        full_text = await post(http, {"query": LISTED}, admin)
        assert by_hash.status_code == full_text.status_code == 200
        assert "workspaces" in answer(by_hash)["data"]
        assert len(executions) == 1  # the second was a cache hit
        refused = [
            await post(http, {"query": UNLISTED}, admin),
            await post(http, apq(UNLISTED), admin),
            await post(http, apq(UNLISTED, with_query=True), admin),  # no registering around it
            await post(http, {"query": UNLISTED}, admin, GRAPHQL_RESPONSE),
        ]
    assert [r.status_code for r in refused] == [200, 200, 200, 403]
    assert all(codes(r) == ["PERSISTED_QUERY_NOT_ALLOWED"] for r in refused)
    assert all("data" not in answer(r) for r in refused)
    assert len(executions) == 1


async def test_batched_operations_are_each_checked(
    serve: Serve, manifest: Path, admin: dict[str, str], executions: list[str]
) -> None:
    batch = [{"query": LISTED}, {"query": UNLISTED}]
    async with serve(trusted_documents_file=manifest, allow_batching=True) as http:
        response = await post(http, batch, admin)
    assert codes(response) == ["PERSISTED_QUERY_NOT_ALLOWED"]
    assert executions == []


async def test_api_keys_mode_binds_partner_tools_only(
    serve: Serve,
    manifest: Path,
    admin: dict[str, str],
    api_key: dict[str, str],
) -> None:
    async with serve(trusted_documents_file=manifest, trusted_documents_for="api-keys") as http:
        user = await post(http, {"query": UNLISTED}, admin)
        partner = await post(http, {"query": UNLISTED}, api_key)
        partner_listed = await post(http, apq(LISTED), api_key)
    assert user.status_code == 200
    assert answer(user)["data"]["workspaces"]["totalCount"] >= 0
    assert codes(partner) == ["PERSISTED_QUERY_NOT_ALLOWED"]
    assert "workspaces" in answer(partner_listed)["data"]


def test_unknown_binding_is_refused(settings: Settings) -> None:
    with pytest.raises(ValueError, match="everyone"):
        Settings(database_url=settings.database_url, trusted_documents_for="nobody")
