"""``gateway serve``'s multiprocess metrics directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gateway.web.metrics_registry import (
    MULTIPROC_ENV,
    ensure_directory,
    prepare_directory,
    remove_directory,
)


def test_several_workers_get_a_fresh_directory_removed_at_exit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(MULTIPROC_ENV, "")  # recorded, so the test leaves it as it found it
    monkeypatch.delenv(MULTIPROC_ENV)
    assert prepare_directory(1) is None  # one process: the default registry, as before
    created = prepare_directory(2)
    assert created is not None
    assert created.is_dir()
    assert os.environ[MULTIPROC_ENV] == str(created)  # inherited by the spawned workers
    (created / "counter_7.db").write_bytes(b"")
    remove_directory(created)
    assert not created.exists()
    assert MULTIPROC_ENV not in os.environ


def test_an_operators_directory_is_wiped_and_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MULTIPROC_ENV, str(tmp_path))
    (tmp_path / "gauge_livesum_7.db").write_bytes(b"stale")
    (tmp_path / "notes.txt").write_text("not ours")
    assert prepare_directory(4) is None  # nothing to remove at exit
    assert sorted(path.name for path in tmp_path.iterdir()) == ["notes.txt"]


def test_this_process_keeps_its_own_files_and_drops_a_namesakes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MULTIPROC_ENV, str(tmp_path / "new"))
    ensure_directory()  # at start, before any metric: created, and a namesake's file gone
    mine = tmp_path / "new" / f"counter_{os.getpid()}.db"
    assert (tmp_path / "new").is_dir()
    mine.write_bytes(b"an earlier process with this id")
    ensure_directory()
    assert not mine.exists()
    # Once this process's metrics exist, serving from it (--workers 1) keeps them.
    mine.write_bytes(b"this process's values")
    (tmp_path / "new" / "counter_7.db").write_bytes(b"stale")
    assert prepare_directory(1) is None
    assert [path.name for path in (tmp_path / "new").iterdir()] == [mine.name]
