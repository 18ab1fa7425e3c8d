"""A demo gateway process and the Node project that drives it: shared by the ``graphql-http``
audit (``test_http_audit.py``) and the ``graphql-ws`` conformance test
(``test_live_graphql_ws.py``).

``tests/http_audit/`` is one Node project (``package.json``, dependencies pinned by its
``package-lock.json``) that ``.ci/run`` installs with ``npm ci``; a plain ``pytest`` on a fresh
checkout installs it too. Without Node, or when the install fails, the tests fail loudly.

Example:
    >>> with running_demo(tmp_path) as demo:  # doctest: +SKIP
    ...     node = node_with("graphql-ws", "ws")
    ...     subprocess.run([node, "live.mjs", demo.ws_url], cwd=NODE_PROJECT)
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.test_cli_serve import TOKEN, Running, _free_port

NODE_PROJECT = Path(__file__).parents[1] / "http_audit"
NPM_CI_SECONDS = 300


def node_with(*packages: str) -> str:
    """Node's path, once ``packages`` are installed in :data:`NODE_PROJECT` (``npm ci`` there
    when one is missing); fails the test without Node or when they are still missing."""
    node, npm = shutil.which("node"), shutil.which("npm")
    modules = NODE_PROJECT / "node_modules"

    def missing() -> list[str]:
        return [name for name in packages if not (modules / name).is_dir()]

    if node is not None and npm is not None and missing():
        # A plain `pytest` on a fresh checkout (or an older node_modules): install the pinned
        # packages, as .ci/run does.
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=NODE_PROJECT,
            check=False,
            timeout=NPM_CI_SECONDS,
        )
    if node is None or missing():
        pytest.fail(
            f"needs Node and `npm ci` in {NODE_PROJECT} (see .ci/run); missing: "
            f"{'node' if node is None else ', '.join(missing())}",
            pytrace=False,
        )
    return node


@dataclass(frozen=True)
class Demo:
    """A running ``gateway demo``: its port, SQLite file and printed tokens (PLATFORM_ADMIN's
    first)."""

    running: Running
    port: int
    database: Path
    tokens: tuple[str, ...]

    @property
    def graphql_url(self) -> str:
        """``/graphql`` over HTTP."""
        return f"http://127.0.0.1:{self.port}/graphql"

    @property
    def ws_url(self) -> str:
        """``/graphql`` over WebSocket."""
        return f"ws://127.0.0.1:{self.port}/graphql"

    @property
    def admin(self) -> str:
        """A platform administrator's ``Authorization`` value."""
        return f"Bearer {self.tokens[0]}"


@contextmanager
def running_demo(directory: Path, env: dict[str, str] | None = None) -> Iterator[Demo]:
    """``gateway demo --scale tiny`` on a free port over ``directory/demo.db``, without Redis
    (``env`` adds variables), until the block ends."""
    database = directory / "demo.db"
    port = _free_port()
    args = ["demo", "--port", str(port), "--scale", "tiny", "--database", str(database)]
    running = Running(args, env={"GATEWAY_REDIS_URL": "", **(env or {})})
    try:
        running.wait_until(f"http://127.0.0.1:{port}/healthz")
        tokens = TOKEN.findall(running.output)
        assert tokens, running.output
        yield Demo(running, port, database, tuple(tokens))
    finally:
        running.stop()
