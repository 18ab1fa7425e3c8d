"""README.md tells the truth: its settings table, record examples and quick-start commands."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from gateway.settings import Settings
from gateway.store.records import CATALOG_KINDS, EVENT_KINDS, decode_record, kind_of

README = Path(__file__).parents[1] / "README.md"
_ROW = re.compile(r"^\| `(GATEWAY_[A-Z0-9_]+)` \| (.*?) \| (.*) \|$")


def _readme() -> str:
    return README.read_text(encoding="utf-8")


def _render_default(value: object) -> str:
    if value is None:
        return "*unset*"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f"`{value}`"


def expected_settings_rows() -> dict[str, tuple[str, str]]:
    """The settings table as the Settings model says it should read: name -> (default, text)."""
    return {
        f"GATEWAY_{name.upper()}": (_render_default(field.default), field.description or "")
        for name, field in Settings.model_fields.items()
    }


def test_settings_table_matches_the_settings_model() -> None:
    documented = {
        match[1]: (match[2], match[3])
        for line in _readme().splitlines()
        if (match := _ROW.match(line))
    }
    expected = expected_settings_rows()
    fix = "\n".join(f"| `{k}` | {d} | {t} |" for k, (d, t) in expected.items())
    assert documented == expected, f"update README's configuration table to:\n{fix}"


def test_every_record_kind_has_an_example_line_that_decodes() -> None:
    blocks = re.findall(r"```jsonl\n(.*?)```", _readme(), flags=re.DOTALL)
    lines = [line for block in blocks for line in block.splitlines() if line.strip()]
    kinds = [kind_of(decode_record(line)) for line in lines]
    assert sorted(kinds) == sorted(kind_of(cls) for cls in (*CATALOG_KINDS, *EVENT_KINDS))


def test_quick_start_comes_first() -> None:
    head = "\n".join(_readme().splitlines()[:40])
    assert "gateway demo" in head
    assert 'pip install -e ".[test]"' in head
    assert "GATEWAY_TEST_POSTGRES_URL" in _readme()
    assert "GATEWAY_TEST_REDIS_URL" in _readme()


def test_readme_keeps_an_ingest_throughput_section() -> None:
    assert re.search(r"^## Ingest throughput$", _readme(), flags=re.MULTILINE)


def test_installs_use_the_tested_versions() -> None:
    root = README.parent
    commands = [line for line in _readme().splitlines() if line.startswith("python3 -m venv")]
    assert len(commands) == 2  # the demo's install and the tests'
    assert all(" -c constraints.txt " in command for command in commands)
    assert '-e ".[test]" -c constraints.txt' in (root / ".ci" / "run").read_text("utf-8")
    pinned = {
        line.split("==")[0].lower().replace("_", "-")
        for line in (root / "constraints.txt").read_text("utf-8").splitlines()
        if line and not line.startswith("#")
    }
    pyproject = tomllib.loads((root / "pyproject.toml").read_text("utf-8"))["project"]
    wanted = [*pyproject["dependencies"], *pyproject["optional-dependencies"]["test"]]
    names = {re.split(r"[\[<>=~! ;]", spec, maxsplit=1)[0].lower() for spec in wanted}
    assert names <= pinned, f"constraints.txt misses {sorted(names - pinned)}"
