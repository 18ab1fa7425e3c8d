"""``gateway generate``: stdout, files, gzip, the summary and the help."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from gateway.cli.generate import register
from tests.synthetic.conftest import Dataset


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    """A CLI holding only ``generate`` (other commands are not under test here)."""
    app = typer.Typer()
    app.callback()(lambda: None)
    register(app)
    return app


def _run(app: typer.Typer, *args: str) -> tuple[int, bytes, str]:
    result = CliRunner().invoke(app, ["generate", *args], env={"COLUMNS": "200"})
    return result.exit_code, result.stdout_bytes, result.stderr


def test_stdout_is_the_generated_lines(app: typer.Typer, tiny: Dataset) -> None:
    code, out, err = _run(app, "--scale", "tiny", "--end-date", "2025-03-31")
    assert code == 0, err
    assert out == b"".join(line + b"\n" for line in tiny.lines)
    assert err == ""


@pytest.mark.parametrize("name", ["tiny.jsonl", "sub/tiny.jsonl.gz"])
def test_file_output_and_summary(
    app: typer.Typer, tiny: Dataset, tmp_path: Path, name: str
) -> None:
    path = tmp_path / name
    code, out, err = _run(app, "--scale", "tiny", "--end-date", "2025-03-31", "-o", str(path))
    assert code == 0, err
    data = gzip.decompress(path.read_bytes()) if name.endswith(".gz") else path.read_bytes()
    assert data.splitlines() == tiny.lines
    assert out == b""
    assert f"wrote {len(tiny.lines):,} records" in err
    assert f"miniProgram {len(tiny.of_kind('miniProgram')):,}" in err


def test_seed_changes_the_output(app: typer.Typer, tiny: Dataset) -> None:
    code, out, _ = _run(app, "--scale", "tiny", "--end-date", "2025-03-31", "--seed", "11")
    assert code == 0
    assert out.splitlines() != tiny.lines


def test_unknown_scale_is_a_usage_error(app: typer.Typer) -> None:
    code, out, err = _run(app, "--scale", "enormous")
    assert code == 2
    assert "tiny, demo, small, large" in err
    assert out == b""


def test_help_lists_the_scales_with_their_sizes(app: typer.Typer) -> None:
    result = CliRunner().invoke(app, ["generate", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for text in ("tiny = 5,000 events", "demo = 100,000 events", "large = 10,000,000 events"):
        assert text in result.stdout
