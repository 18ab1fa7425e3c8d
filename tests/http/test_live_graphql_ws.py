"""Live subscriptions (``graphql-transport-ws`` at ``/graphql``) driven by the real ``graphql-ws``
npm client against a real gateway process.

``gateway demo --scale tiny`` serves on a free port, without Redis and without its in-process
refresher, so the only new snapshots are the ones these tests take with ``gateway refresh``
(the server notices them by polling, within ``GATEWAY_CACHE_POLL_SECONDS``). Node runs
``tests/http_audit/live.mjs`` (``graphql-ws`` and ``ws`` pinned by that project's
package-lock.json, installed by ``npm ci`` in ``.ci/run``): its scenarios each record what the
client saw, and the script waits, after a first answer of g, h and i, for the refresh these
tests run. README's example (section "Live subscriptions") runs as it is written, with the
demo's URL and token.

Scenarios: a ``live`` answers at once; b ``snapshots`` the current snapshot; c a ``query``:
``next`` then ``complete``; d a bad token, e no credential: closed with 4403 and no result; f a
validation error and k a cost-limit error: ``error`` messages; j a mutation: refused; g a
``live`` subscription is pushed the refreshed answer; h a completed (disposed) subscription is
not, while another on the same connection is; i the ``iterate`` API.
"""

from __future__ import annotations

import os
import queue
import re
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import orjson
import pytest

from tests.http.node_demo import NODE_PROJECT, Demo, node_with, running_demo
from tests.test_cli_serve import GATEWAY

PACKAGES = ("graphql-ws", "ws")
README = Path(__file__).parents[2] / "README.md"
README_URL = "ws://127.0.0.1:8000/graphql"
"""The URL README's example connects to (the tests substitute the demo's)."""
LINE_SECONDS = 120
"""Longest wait for a line of a Node script (its own waits are bounded by 30 s each)."""
REFRESH_SECONDS = 120
MUTATION = "mutations do not run over WebSocket; send them to POST /graphql"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """A demo gateway whose snapshots change only by :func:`_refresh`."""
    directory = tmp_path_factory.mktemp("live")
    with running_demo(directory, env={"GATEWAY_REFRESH_IN_PROCESS": "false"}) as running:
        yield running


def _refresh(database: Path) -> int:
    """Run ``gateway refresh`` on the demo's database; the new snapshot's id."""
    env = {**os.environ, "GATEWAY_DATABASE_URL": f"sqlite:///{database}", "GATEWAY_REDIS_URL": ""}
    done = subprocess.run(
        [str(GATEWAY), "refresh"],
        env=env,
        capture_output=True,
        text=True,
        timeout=REFRESH_SECONDS,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    found = re.search(r"snapshot (\d+):", done.stdout)
    assert found is not None, done.stdout
    return int(found[1])


class Node:
    """A Node script's process; its stdout lines are read by a thread, so waits time out."""

    def __init__(self, args: list[str], cwd: Path, env: dict[str, str]) -> None:
        self._stderr: IO[str] = tempfile.TemporaryFile("w+")  # noqa: SIM115 - closed by stop()
        self.process = subprocess.Popen(
            args,
            cwd=cwd,
            env={**os.environ, **env},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line)
        self._lines.put(None)

    @property
    def stderr(self) -> str:
        """What the script wrote on stderr so far."""
        self._stderr.seek(0)
        return self._stderr.read()

    def line(self, what: str) -> Any:
        """The next stdout line, decoded as JSON; fails with stderr when none comes."""
        try:
            line = self._lines.get(timeout=LINE_SECONDS)
        except queue.Empty:
            line = None
        if line is None:
            pytest.fail(f"no {what} from Node within {LINE_SECONDS}s:\n{self.stderr}")
        return orjson.loads(line)

    def send(self, line: str) -> None:
        """Write one line on the script's stdin and close it."""
        assert self.process.stdin is not None
        self.process.stdin.write(f"{line}\n")
        self.process.stdin.close()

    def stop(self) -> int:
        """Wait a little for the script to exit, else kill it; its exit code."""
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._reader.join(timeout=5)
        for pipe in (self.process.stdin, self.process.stdout, self._stderr):
            if pipe is not None:
                pipe.close()
        return self.process.returncode


@pytest.fixture(scope="module")
def scenarios(demo: Demo) -> dict[str, Any]:
    """What ``live.mjs`` observed, with ``awaiting`` (the snapshot before the refresh) and
    ``refreshed`` (the snapshot the refresh took)."""
    node = Node(
        [node_with(*PACKAGES), "live.mjs", demo.ws_url],
        cwd=NODE_PROJECT,
        env={"LIVE_AUTHORIZATION": demo.admin},
    )
    try:
        awaiting = node.line("refresh marker")
        assert awaiting["awaiting"] == "refresh", awaiting
        refreshed = _refresh(demo.database)
        node.send(str(refreshed))
        report: dict[str, Any] = node.line("report")
        stderr = node.stderr
    finally:
        code = node.stop()
    assert code == 0, stderr
    assert report["refreshed"] == refreshed
    return {**report, "awaiting": awaiting["snapshot"]}


def _snapshot_id(payload: dict[str, Any]) -> int:
    """The snapshot a ``next`` payload answers, checked against its shape."""
    extensions = payload["extensions"]
    assert set(extensions) == {"snapshot", "cost"}, payload
    assert isinstance(extensions["cost"], int), payload
    snapshot = extensions["snapshot"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+Z", snapshot["takenAt"]), payload
    snapshot_id: int = snapshot["id"]
    return snapshot_id


def _live(payload: dict[str, Any], key: str = "live") -> dict[str, Any]:
    """The ``live`` data of a ``next`` payload without errors; its snapshot is the payload's."""
    assert "errors" not in payload, payload
    assert set(payload["data"]) == {key}, payload
    data: dict[str, Any] = payload["data"][key]
    assert data["snapshot"]["id"] == str(_snapshot_id(payload)), payload
    return data


def _refused(seen: dict[str, Any]) -> dict[str, Any]:
    """The one GraphQL error of an operation refused with an ``error`` message."""
    assert not seen["timedOut"], seen
    assert seen["nexts"] == [], seen
    errors = seen["error"]["graphqlErrors"]
    assert len(errors) == 1, seen
    error: dict[str, Any] = errors[0]
    return error


def test_a_live_answers_at_once(scenarios: dict[str, Any]) -> None:
    seen = scenarios["a"]
    assert not seen["timedOut"], seen
    assert seen["error"] is None, seen
    assert len(seen["nexts"]) == 1, seen
    first = seen["nexts"][0]
    live = _live(first)
    assert _snapshot_id(first) == scenarios["awaiting"]
    assert first["extensions"]["cost"] > 0
    workspaces = live["workspaces"]
    assert workspaces["totalCount"] >= 1
    assert all(node["id"] and node["name"] for node in workspaces["nodes"])


def test_b_snapshots_answers_the_current_snapshot(scenarios: dict[str, Any]) -> None:
    seen = scenarios["b"]
    assert not seen["timedOut"], seen
    assert seen["error"] is None, seen
    [first] = seen["nexts"]
    snapshot = first["data"]["snapshots"]
    assert snapshot["id"] == str(_snapshot_id(first)) == str(scenarios["awaiting"])
    assert snapshot["takenAt"]


def test_c_a_query_gets_next_then_complete(scenarios: dict[str, Any]) -> None:
    seen = scenarios["c"]
    assert not seen["timedOut"], seen
    assert seen["error"] is None, seen
    assert seen["completed"] is True
    [answer] = seen["nexts"]
    assert "errors" not in answer, answer
    assert answer["data"]["workspaces"]["totalCount"] >= 1
    assert _snapshot_id(answer) == scenarios["awaiting"]
    assert seen["closes"] == [{"code": 1000, "reason": "Normal Closure"}]  # the client's own


@pytest.mark.parametrize(
    ("name", "reason"),
    [("d", "Forbidden: token is malformed"), ("e", 'Forbidden: send {"Authorization"')],
)
def test_d_e_a_bad_or_missing_credential_closes_4403(
    scenarios: dict[str, Any], name: str, reason: str
) -> None:
    seen = scenarios[name]
    assert not seen["timedOut"], seen
    assert seen["nexts"] == [], seen
    assert seen["error"]["closeCode"] == 4403, seen
    assert seen["error"]["reason"].startswith(reason), seen
    assert [close["code"] for close in seen["closes"]] == [4403], seen  # e: shouldRetry held


def test_f_a_validation_error_is_an_error_message(scenarios: dict[str, Any]) -> None:
    error = _refused(scenarios["f"])
    assert "noSuchField" in error["message"], error
    assert error["locations"] == [{"line": 1, "column": 23}]  # the client's own text


def test_j_a_mutation_is_refused(scenarios: dict[str, Any]) -> None:
    error = _refused(scenarios["j"])
    assert error == {"message": MUTATION, "extensions": {"code": "BAD_USER_INPUT"}}


def test_k_a_limit_error_is_an_error_message(scenarios: dict[str, Any]) -> None:
    error = _refused(scenarios["k"])
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX", error
    assert error["extensions"]["cost"] > error["extensions"]["limit"], error


def test_g_a_new_snapshot_pushes_the_new_answer(scenarios: dict[str, Any]) -> None:
    seen = scenarios["g"]
    assert seen["firstsInTime"], seen
    assert seen["pushedInTime"], seen
    assert seen["error"] is None, seen
    assert len(seen["nexts"]) == 2, seen  # once at once, once for the one new snapshot
    first, second = seen["nexts"]
    assert _snapshot_id(first) == scenarios["awaiting"] < scenarios["refreshed"]
    assert _snapshot_id(second) == scenarios["refreshed"]
    assert _live(first)["workspaces"] == _live(second)["workspaces"]


def test_h_a_completed_subscription_is_not_pushed(scenarios: dict[str, Any]) -> None:
    seen = scenarios["h"]
    kept, gone = seen["kept"], seen["gone"]
    # The connection is still pushed to: its other subscription gets the new snapshot.
    assert [_snapshot_id(p) for p in kept["nexts"]] == [
        scenarios["awaiting"],
        scenarios["refreshed"],
    ], kept
    assert kept["error"] is None, kept
    assert seen["closes"] == [], seen
    assert [_snapshot_id(p) for p in gone["nexts"]] == [scenarios["awaiting"]], gone
    assert gone["error"] is None, gone
    assert gone["completed"] is True, gone


def test_i_the_iterate_api(scenarios: dict[str, Any]) -> None:
    seen = scenarios["i"]
    assert "failure" not in seen, seen
    [answer] = seen["query"]  # a query's iterator yields once and ends
    assert answer["data"]["workspaces"]["totalCount"] >= 1
    first, second = seen["live"]["values"]
    assert _live(first, "wall")["workspaces"]["totalCount"] >= 1  # the alias is the key
    assert [_snapshot_id(first), _snapshot_id(second)] == [
        scenarios["awaiting"],
        scenarios["refreshed"],
    ]
    assert seen["live"]["returned"] == {"done": True}


def _readme_example() -> str:
    section = re.search(r"^## Live subscriptions\n(.*?)^## ", README.read_text(), re.M | re.S)
    assert section is not None, "README.md lost its section 'Live subscriptions'"
    [code] = re.findall(r"^```js\n(.*?)^```", section[1], re.M | re.S)
    assert code.count(README_URL) == 1, code
    return code


def test_the_readme_example_runs(demo: Demo, tmp_path: Path) -> None:
    """README's example, as written but for the URL: its first line is the current answer,
    its next the answer of the snapshot a refresh takes."""
    node_path = node_with(*PACKAGES)
    script = tmp_path / "example.mjs"
    script.write_text(_readme_example().replace(README_URL, demo.ws_url))
    (tmp_path / "node_modules").symlink_to(NODE_PROJECT / "node_modules")
    node = Node([node_path, str(script)], cwd=tmp_path, env={"GATEWAY_TOKEN": demo.tokens[0]})
    try:
        first = node.line("first answer")
        refreshed = _refresh(demo.database)
        second = node.line("answer after the refresh")
    finally:
        node.process.terminate()  # the example listens for ever
        node.stop()
    for line, snapshot in ((first, None), (second, refreshed)):
        assert set(line) == {"snapshot", "live"}, line  # no errors
        assert line["live"]["snapshot"]["id"] == str(line["snapshot"]), line
        assert snapshot is None or line["snapshot"] == snapshot
        workspaces = line["live"]["workspaces"]["nodes"]
        assert workspaces, line
        for workspace in workspaces:
            assert workspace["name"], line
            assert isinstance(workspace["activeUsers"]["value"], int | float), line
    assert first["snapshot"] < refreshed
