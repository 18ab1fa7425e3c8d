"""``gateway matrix`` and GATEWAY_ROLE_MATRIX_FILE: print, replace and validate the matrix."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx
import pytest
import yaml
from asgi_lifespan import LifespanManager
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from gateway.app import create_app
from gateway.authz.matrix import DEFAULT_MATRIX, MatrixError
from gateway.authz.matrix_file import dump_matrix, parse_matrix
from gateway.authz.tokens import mint_token
from gateway.cli import app
from gateway.roles import Grant, Role
from gateway.settings import Settings
from gateway.store import tables

runner = CliRunner()


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "matrix.yaml"
    path.write_text(text)
    return path


def test_matrix_prints_the_default_matrix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GATEWAY_ROLE_MATRIX_FILE", raising=False)
    result = runner.invoke(app, ["matrix"])
    assert result.exit_code == 0, result.output
    assert parse_matrix(yaml.safe_load(result.stdout)) == DEFAULT_MATRIX


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("Query.viewer: [SUPER_ADMIN, WIZARD]", "unknown role 'WIZARD'"),
        ("Query.viewr: [SUPER_ADMIN]", "unknown field 'Query.viewr'"),
        ("Workspace.targetApps(sortBy:): [SUPER_ADMIN]", "unknown argument"),
        ("Wizard: inherit", "unknown type 'Wizard'"),
        ("Query.viewer: SUPER_ADMIN", "expected a list of role names"),
    ],
)
def test_a_bad_matrix_file_is_refused_with_a_clear_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, line: str, message: str
) -> None:
    path = _file(tmp_path, dump_matrix(DEFAULT_MATRIX) + line + "\n")
    monkeypatch.setenv("GATEWAY_ROLE_MATRIX_FILE", str(path))
    result = runner.invoke(app, ["matrix"])
    assert result.exit_code == 2
    assert message in result.stderr
    with pytest.raises(MatrixError, match="role matrix"):
        create_app(Settings(role_matrix_file=path))


def test_a_matrix_leaving_a_type_out_is_refused(tmp_path: Path) -> None:
    kept = [ln for ln in dump_matrix(DEFAULT_MATRIX).splitlines() if not ln.startswith("Metric:")]
    path = _file(tmp_path, "\n".join(kept))
    with pytest.raises(MatrixError, match="no entry for type 'Metric'"):
        create_app(Settings(role_matrix_file=path))


async def test_a_replaced_matrix_is_enforced_and_printed(
    tmp_path: Path, settings: Settings, engine: AsyncEngine
) -> None:
    async with engine.begin() as conn:
        await conn.execute(tables.workspaces.insert(), [{"id": "ws-1", "name": "Alpha"}])
    # Only SUPER_ADMIN may read Workspace.activeUsers now; PLATFORM_ADMIN loses it.
    text = dump_matrix(DEFAULT_MATRIX).replace(
        "Workspace.activeUsers: [SUPER_ADMIN, PLATFORM_ADMIN,",
        "Workspace.activeUsers: [SUPER_ADMIN]\nIGNORED: [",
    )
    text = "\n".join(ln for ln in text.splitlines() if not ln.startswith("IGNORED"))
    path = _file(tmp_path, text)
    configured = settings.model_copy(
        update={"role_matrix_file": path, "jwt_secret": SecretStr("x" * 32)}
    )
    application = create_app(configured)
    query = {
        "query": "{ workspaces { nodes { activeUsers(timeRange: {preset: TODAY}) { value } } } }"
    }

    def bearer(role: Role) -> dict[str, str]:
        token = mint_token(configured, role.value, [Grant(role)], dt.timedelta(minutes=5))
        return {"Authorization": f"Bearer {token}"}

    async with (
        LifespanManager(application) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url="http://gateway.test"
        ) as http,
    ):
        sdl = (await http.get("/schema.graphql")).text
        assert "@requiresRole(roles: [SUPER_ADMIN])" in sdl
        allowed = (await http.post("/graphql", json=query, headers=bearer(Role.SUPER_ADMIN))).json()
        denied = (
            await http.post("/graphql", json=query, headers=bearer(Role.PLATFORM_ADMIN))
        ).json()
    assert "errors" not in allowed
    assert allowed["data"]["workspaces"]["nodes"] == [{"activeUsers": {"value": 0}}]
    [error] = denied["errors"]
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert error["extensions"]["allowedRoles"] == ["SUPER_ADMIN"]
    assert denied["data"]["workspaces"]["nodes"] == [{"activeUsers": None}]
