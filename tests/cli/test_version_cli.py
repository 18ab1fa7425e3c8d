"""``gateway --version`` prints the installed package's version and exits 0."""

from __future__ import annotations

from importlib.metadata import version

from typer.testing import CliRunner

from gateway.cli import DISTRIBUTION, app


def test_version_prints_the_installed_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.output == f"gateway {version(DISTRIBUTION)}\n"


def test_version_comes_before_any_command() -> None:
    result = CliRunner().invoke(app, ["--version", "serve"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("gateway ")
