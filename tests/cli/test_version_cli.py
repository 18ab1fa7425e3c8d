"""``gateway --version`` prints the installed package's version and exits 0, also where the
multiprocess metrics directory does not exist yet."""

from __future__ import annotations

import os
import subprocess
from importlib.metadata import version
from pathlib import Path

from typer.testing import CliRunner

from gateway.cli import DISTRIBUTION, app
from tests.test_cli_serve import GATEWAY


def test_version_prints_the_installed_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.output == f"gateway {version(DISTRIBUTION)}\n"


def test_version_comes_before_any_command() -> None:
    result = CliRunner().invoke(app, ["--version", "serve"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("gateway ")


def test_a_missing_multiprocess_metrics_directory_is_created(tmp_path: Path) -> None:
    # An operator's PROMETHEUS_MULTIPROC_DIR on a fresh tmpfs: every command imports metrics,
    # which open files there at once; the directory is made first.
    missing = tmp_path / "run" / "gateway-metrics"
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(missing)}
    done = subprocess.run(
        [str(GATEWAY), "--version"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("gateway ")
    assert missing.is_dir()
