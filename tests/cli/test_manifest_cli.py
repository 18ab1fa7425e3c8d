"""``gateway manifest``: a trusted-documents manifest of ``.graphql`` files, which the gateway
then loads; a file that does not parse is named and refused."""

from __future__ import annotations

import hashlib
from pathlib import Path

import orjson
from typer.testing import CliRunner

from gateway.cli import app
from gateway.web.trusted import load_manifest

runner = CliRunner()

NAMES = "query Names {\n  workspaces { nodes { name } }\n}\n"
COUNT = "query Count { workspaces { totalCount } }"


def test_manifest_maps_each_file_sha256_to_its_exact_text(tmp_path: Path) -> None:
    (tmp_path / "names.graphql").write_text(NAMES)
    (tmp_path / "count.graphql").write_text(COUNT)
    files = [str(tmp_path / "names.graphql"), str(tmp_path / "count.graphql")]
    result = runner.invoke(app, ["manifest", *files])
    assert result.exit_code == 0, result.output
    manifest = orjson.loads(result.stdout)
    assert manifest == {
        hashlib.sha256(NAMES.encode()).hexdigest(): NAMES,
        hashlib.sha256(COUNT.encode()).hexdigest(): COUNT,
    }
    path = tmp_path / "trusted.json"
    path.write_text(result.stdout)
    assert load_manifest(path) == manifest  # what GATEWAY_TRUSTED_DOCUMENTS_FILE accepts


def test_manifest_names_a_file_that_does_not_parse(tmp_path: Path) -> None:
    (tmp_path / "good.graphql").write_text(COUNT)
    (tmp_path / "bad.graphql").write_text("query Broken {")
    files = [str(tmp_path / "good.graphql"), str(tmp_path / "bad.graphql")]
    result = runner.invoke(app, ["manifest", *files])
    assert result.exit_code == 2
    assert "bad.graphql" in result.stderr
    assert "does not parse" in result.stderr
    missing = runner.invoke(app, ["manifest", str(tmp_path / "absent.graphql")])
    assert missing.exit_code == 2
    assert "absent.graphql" in missing.stderr
