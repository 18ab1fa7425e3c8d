"""``GATEWAY_<NAME>_FILE``: secret settings read from files, conflicts and unreadable files
refused with a message naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from gateway.secret_files import SECRET_SETTINGS
from gateway.settings import Settings

SECRET = "a-secret-of-the-file-tests-at-least-32-characters"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SECRET_SETTINGS:
        monkeypatch.delenv(f"GATEWAY_{name.upper()}", raising=False)
        monkeypatch.delenv(f"GATEWAY_{name.upper()}_FILE", raising=False)


def _secret_file(tmp_path: Path, content: str) -> str:
    path = tmp_path / "secret"
    path.write_text(content, encoding="utf-8")
    return str(path)


def test_every_secret_setting_is_a_field() -> None:
    assert set(SECRET_SETTINGS) <= set(Settings.model_fields)


@pytest.mark.parametrize("content", [SECRET, SECRET + "\n", SECRET + "\r\n"])
def test_a_secret_is_read_from_its_file_without_the_trailing_newline(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, content: str
) -> None:
    monkeypatch.setenv("GATEWAY_JWT_SECRET_FILE", _secret_file(tmp_path, content))
    monkeypatch.setenv("GATEWAY_CURSOR_SECRET_FILE", _secret_file(tmp_path, content))
    settings = Settings()
    assert settings.jwt_secret is not None
    assert settings.jwt_secret.get_secret_value() == SECRET
    assert settings.cursor_secret is not None
    assert settings.cursor_secret.get_secret_value() == SECRET


def test_urls_are_read_from_files_and_validated_as_if_set_directly(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    database = tmp_path / "database"
    database.write_text("postgresql://gw:pw@db/gateway\n", encoding="utf-8")
    redis = tmp_path / "redis"
    redis.write_text("redis://:pw@cache:6379/0\n", encoding="utf-8")
    monkeypatch.setenv("GATEWAY_DATABASE_URL_FILE", str(database))
    monkeypatch.setenv("GATEWAY_REDIS_URL_FILE", str(redis))
    settings = Settings()
    assert settings.database_url == "postgresql+asyncpg://gw:pw@db/gateway"
    assert settings.redis_url == "redis://:pw@cache:6379/0"


def test_a_file_secret_is_checked_like_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("GATEWAY_JWT_SECRET_FILE", _secret_file(tmp_path, "short\n"))
    with pytest.raises(ValidationError, match="at least 32 characters"):
        Settings()


@pytest.mark.parametrize("name", SECRET_SETTINGS)
def test_the_variable_and_its_file_together_are_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str
) -> None:
    variable = f"GATEWAY_{name.upper()}"
    monkeypatch.setenv(variable, SECRET)
    monkeypatch.setenv(f"{variable}_FILE", _secret_file(tmp_path, SECRET))
    with pytest.raises(ValidationError, match=f"set either {variable} or {variable}_FILE"):
        Settings()


def test_an_unreadable_file_is_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = tmp_path / "no-such-secret"
    monkeypatch.setenv("GATEWAY_JWT_SECRET_FILE", str(missing))
    with pytest.raises(ValidationError, match="GATEWAY_JWT_SECRET_FILE: cannot read") as refused:
        Settings()
    assert str(missing) in str(refused.value)


def test_an_empty_file_variable_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_JWT_SECRET_FILE", "")
    assert Settings().jwt_secret is None


def test_a_refusal_does_not_print_the_secret(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("GATEWAY_JWT_SECRET", SECRET)
    monkeypatch.setenv("GATEWAY_JWT_SECRET_FILE", _secret_file(tmp_path, SECRET))
    with pytest.raises(ValidationError) as refused:
        Settings()
    assert SECRET not in str(refused.value)
