"""A real gateway on a free port for the browser: uvicorn in a thread over generated data.

The server runs its own event loop in its thread; the tests (and Playwright's async API) run
in pytest-asyncio's session loop.

The data is the demo's generator at the ``tiny`` scale (30 days ending today, so the presets
show numbers), in a SQLite file of the test session. The role matrix is the default one except
that ``SUPERAPP_OPERATOR`` may not read ad revenue nor rank target apps (:data:`OPERATOR_LOSES`),
so one role shows what the dashboard hides by ``Viewer.readableFields`` and by FORBIDDEN paths.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
import yaml
from pydantic import SecretStr
from rich.console import Console

from gateway.app import create_app
from gateway.authz.matrix import DEFAULT_MATRIX
from gateway.authz.matrix_file import dump_matrix
from gateway.authz.tokens import mint_token
from gateway.cli.demo_tokens import DemoScopes, demo_scopes
from gateway.cli.serve import load_demo_data
from gateway.roles import Grant, Role
from gateway.settings import Settings
from gateway.store.apikeys import create_api_key, revoke_api_key
from gateway.store.db import create_engine

JWT_SECRET = "browser-tests-secret-of-at-least-32-bytes"
OPERATOR_LOSES = (
    "Workspace.estimatedAdRevenue",
    "TargetApp.estimatedAdRevenue",
    "Workspace.targetApps(orderBy:)",
)
"""Matrix entries whose roles lose ``SUPERAPP_OPERATOR`` in the browser tests' matrix."""
STARTUP_SECONDS = 60.0


def operator_matrix() -> str:
    """The default matrix with ``SUPERAPP_OPERATOR`` removed from :data:`OPERATOR_LOSES`."""
    entries = yaml.safe_load(dump_matrix(DEFAULT_MATRIX))
    for key in OPERATOR_LOSES:
        entries[key].remove(Role.SUPERAPP_OPERATOR.value)
    return yaml.safe_dump(entries)


def _token(
    settings: Settings, workspace_id: str | None, role: Role, *, expired: bool = False
) -> str:
    workspace = workspace_id if role.value.startswith("SUPERAPP_") else None
    issued = datetime.now(UTC) - (timedelta(hours=2) if expired else timedelta())
    subject = f"browser:{role.value.lower()}"
    grants = [Grant(role, workspace)]
    return mint_token(settings, subject, grants, timedelta(hours=1), now=issued)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def _prepare(settings: Settings) -> DemoScopes:
    await load_demo_data(settings, "tiny", Console(quiet=True))
    engine = create_engine(settings)
    try:
        return await demo_scopes(engine)
    finally:
        await engine.dispose()


@dataclass
class LiveGateway:
    """A gateway serving ``url``; :meth:`headers` mints credentials for it."""

    url: str
    settings: Settings
    workspace_id: str
    server: uvicorn.Server
    thread: threading.Thread

    @classmethod
    async def start(cls, directory: Path, *, graphiql_role: Role | None = None) -> LiveGateway:
        """Generate the data, write the matrix, serve on a free port, wait for /healthz.

        ``graphiql_role``: GraphiQL's headers editor is pre-filled with a token of that role
        (as ``gateway demo`` does); None leaves it empty.
        """
        matrix = directory / "matrix.yaml"
        matrix.write_text(operator_matrix(), encoding="utf-8")
        settings = Settings(
            database_url=f"sqlite:///{directory / 'gateway.db'}",
            redis_url=None,
            jwt_secret=SecretStr(JWT_SECRET),
            role_matrix_file=matrix,
        )
        scopes = await _prepare(settings)
        assert scopes.workspace_id is not None
        port = _free_port()
        headers = None
        if graphiql_role is not None:
            token = _token(settings, scopes.workspace_id, graphiql_role)
            headers = {"Authorization": f"Bearer {token}"}
        app = create_app(settings, graphiql_headers=headers)
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, name="live-gateway", daemon=True)
        thread.start()
        live = cls(f"http://127.0.0.1:{port}", settings, scopes.workspace_id, server, thread)
        await live.wait_until_healthy()
        return live

    async def wait_until_healthy(self) -> None:
        """Poll /healthz until it answers 200 (fails after :data:`STARTUP_SECONDS`)."""
        deadline = time.monotonic() + STARTUP_SECONDS
        async with httpx.AsyncClient(base_url=self.url, timeout=2) as http:
            while time.monotonic() < deadline:
                if not self.thread.is_alive():
                    raise RuntimeError("the live gateway's server thread died at start-up")
                try:
                    if (await http.get("/healthz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError(f"{self.url}/healthz did not answer in {STARTUP_SECONDS}s")

    def stop(self) -> None:
        """Shut the server down and wait for its thread."""
        self.server.should_exit = True
        self.thread.join(timeout=30)

    def token(self, role: Role, *, expired: bool = False) -> str:
        """A JWT of ``role`` valid for an hour (or one that expired an hour ago), scoped to the
        data's workspace for super-app team roles."""
        return _token(self.settings, self.workspace_id, role, expired=expired)

    async def api_key(self, name: str, role: Role) -> str:
        """A new API key named ``name`` holding ``role`` (scoped as :meth:`token`'s)."""
        workspace = self.workspace_id if role.value.startswith("SUPERAPP_") else None
        engine = create_engine(self.settings)
        try:
            return await create_api_key(engine, name, [Grant(role, workspace)])
        finally:
            await engine.dispose()

    async def revoke(self, name: str) -> None:
        """Revoke the API key ``name`` (refused from the next request on)."""
        engine = create_engine(self.settings)
        try:
            await revoke_api_key(engine, name)
        finally:
            await engine.dispose()

    async def graphql(self, body: dict[str, object], token: str) -> dict[str, Any]:
        """POST ``body`` to /graphql as ``token`` (what the page sent, re-run by the test)."""
        async with httpx.AsyncClient(base_url=self.url) as http:
            response = await http.post(
                "/graphql", json=body, headers={"Authorization": f"Bearer {token}"}
            )
        response.raise_for_status()
        answer: dict[str, Any] = response.json()
        return answer

    async def data(self, body: dict[str, object], token: str) -> dict[str, Any]:
        """The ``data`` of :meth:`graphql`'s answer, which must hold no error."""
        answer = await self.graphql(body, token)
        assert "errors" not in answer, answer
        data: dict[str, Any] = answer["data"]
        return data
