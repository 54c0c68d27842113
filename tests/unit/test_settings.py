"""Settings: where values come from, how secrets are kept out of sight, and the
startup errors an operator sees for a configuration that cannot work safely."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from portico.settings import Settings, SettingsError, load_settings

SECRET = "0123456789abcdef0123456789abcdef-not-a-real-key"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No PORTICO_* from the developer's shell or CI, and no portico.toml but ours."""
    for name in list(os.environ):
        if name.startswith("PORTICO_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write_toml(path: Path, body: str) -> Path:
    path.write_text(body, encoding="utf-8")
    return path


# --- sources and precedence ----------------------------------------------------------


def test_defaults_apply_when_nothing_is_configured() -> None:
    settings = load_settings()
    assert settings.issuer == "http://127.0.0.1:8000"
    assert settings.database_url == "sqlite+aiosqlite:///./portico.db"
    assert settings.access_token_ttl == 900
    assert settings.insecure_cookies is False
    assert settings.cookies_secure is True


def test_portico_toml_in_the_working_directory_beats_defaults(tmp_path: Path) -> None:
    write_toml(
        tmp_path / "portico.toml",
        'issuer = "https://id.example.com"\naccess_token_ttl = 600\n',
    )
    settings = load_settings()
    assert settings.issuer == "https://id.example.com"
    assert settings.access_token_ttl == 600
    assert settings.id_token_ttl == 3600


def test_environment_beats_portico_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_toml(
        tmp_path / "portico.toml",
        'issuer = "https://id.example.com"\naccess_token_ttl = 600\n',
    )
    monkeypatch.setenv("PORTICO_ACCESS_TOKEN_TTL", "1200")
    settings = load_settings()
    assert settings.access_token_ttl == 1200
    assert settings.issuer == "https://id.example.com"


def test_explicit_arguments_beat_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTICO_ACCESS_TOKEN_TTL", "1200")
    assert load_settings(access_token_ttl=300).access_token_ttl == 300


def test_portico_config_points_at_another_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_toml(tmp_path / "portico.toml", "access_token_ttl = 600\n")
    other = write_toml(tmp_path / "elsewhere.toml", "access_token_ttl = 700\n")
    monkeypatch.setenv("PORTICO_CONFIG", str(other))
    assert load_settings().access_token_ttl == 700


def test_a_missing_config_file_falls_back_to_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORTICO_CONFIG", str(tmp_path / "absent.toml"))
    assert load_settings().access_token_ttl == 900


def test_list_settings_are_json_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTICO_CORS_ORIGINS", '["https://app.example.com"]')
    assert load_settings().cors_origins == ["https://app.example.com"]


def test_an_unknown_key_in_the_toml_file_is_refused(tmp_path: Path) -> None:
    write_toml(tmp_path / "portico.toml", "acess_token_ttl = 600\n")
    with pytest.raises(SettingsError, match="PORTICO_ACESS_TOKEN_TTL"):
        load_settings()


def test_settings_cannot_be_changed_after_loading() -> None:
    settings = load_settings()
    with pytest.raises(ValidationError):
        settings.issuer = "https://elsewhere.example.com"  # type: ignore[misc]


# --- secrets ---------------------------------------------------------------------------


def test_secret_key_is_masked_in_repr_and_str(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTICO_SECRET_KEY", SECRET)
    settings = load_settings()
    assert SECRET not in repr(settings)
    assert SECRET not in str(settings)
    assert "**********" in repr(settings)
    assert settings.secret_key is not None
    assert settings.secret_key.get_secret_value() == SECRET


def test_secret_key_may_be_read_from_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret_file = tmp_path / "master.key"
    secret_file.write_text(SECRET + "\n", encoding="utf-8")
    monkeypatch.setenv("PORTICO_SECRET_KEY", f"file://{secret_file}")
    settings = load_settings()
    assert settings.secret_key is not None
    assert settings.secret_key.get_secret_value() == SECRET
    assert SECRET not in repr(settings)


def test_secret_key_file_in_the_toml_file_is_read_too(tmp_path: Path) -> None:
    secret_file = tmp_path / "master.key"
    secret_file.write_text(SECRET, encoding="utf-8")
    write_toml(tmp_path / "portico.toml", f'secret_key = "file://{secret_file}"\n')
    settings = load_settings()
    assert settings.secret_key is not None
    assert settings.secret_key.get_secret_value() == SECRET


def test_an_unreadable_secret_file_names_the_setting_and_the_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "nope.key"
    monkeypatch.setenv("PORTICO_SECRET_KEY", f"file://{missing}")
    with pytest.raises(SettingsError) as info:
        load_settings()
    message = str(info.value)
    assert "PORTICO_SECRET_KEY" in message
    assert str(missing) in message


# --- issuer ----------------------------------------------------------------------------


@pytest.mark.parametrize("issuer", ["id.example.com", "not a url", "ftp://id.example.com", ""])
def test_an_issuer_that_is_not_an_http_url_is_refused(
    issuer: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORTICO_ISSUER", issuer)
    with pytest.raises(SettingsError, match="PORTICO_ISSUER: .*absolute http\\(s\\) URL"):
        load_settings()


def test_plain_http_issuer_on_a_public_host_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTICO_ISSUER", "http://id.example.com")
    with pytest.raises(SettingsError, match="PORTICO_ISSUER: .*must use https"):
        load_settings()


@pytest.mark.parametrize(
    "issuer", ["http://127.0.0.1:8000", "http://localhost:8000", "http://[::1]:8000"]
)
def test_plain_http_issuer_on_loopback_is_allowed(
    issuer: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORTICO_ISSUER", issuer)
    assert load_settings().issuer == issuer


def test_issuer_with_a_query_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTICO_ISSUER", "https://id.example.com/?tenant=a")
    with pytest.raises(SettingsError, match="PORTICO_ISSUER: .*query or fragment"):
        load_settings()


def test_trailing_slash_is_stripped_from_the_issuer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTICO_ISSUER", "https://id.example.com/tenant/")
    settings = load_settings()
    assert settings.issuer == "https://id.example.com/tenant"
    assert settings.url("/token") == "https://id.example.com/tenant/token"


# --- cookie safety and database ---------------------------------------------------------


def test_insecure_cookies_are_refused_with_a_public_issuer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PORTICO_ISSUER", "https://id.example.com")
    monkeypatch.setenv("PORTICO_INSECURE_COOKIES", "true")
    with pytest.raises(
        SettingsError, match="PORTICO_INSECURE_COOKIES=true is only allowed with a loopback"
    ):
        load_settings()


def test_insecure_cookies_are_allowed_with_a_loopback_issuer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PORTICO_INSECURE_COOKIES", "true")
    settings = load_settings()
    assert settings.insecure_cookies is True
    assert settings.cookies_secure is False


@pytest.mark.parametrize(
    "url", ["sqlite:///portico.db", "postgresql://user@db/portico", "mysql://x", "portico.db"]
)
def test_a_database_url_that_is_not_async_sqlalchemy_is_refused(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORTICO_DATABASE_URL", url)
    with pytest.raises(SettingsError, match="PORTICO_DATABASE_URL: .*async SQLAlchemy URL"):
        load_settings()


@pytest.mark.parametrize(
    "url", ["sqlite+aiosqlite:///var/portico.db", "postgresql+asyncpg://portico@db:5432/portico"]
)
def test_supported_database_urls_are_accepted(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTICO_DATABASE_URL", url)
    settings = load_settings()
    assert settings.database_url == url
    assert settings.is_sqlite == url.startswith("sqlite")


def test_out_of_range_numbers_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTICO_BCRYPT_ROUNDS", "40")
    with pytest.raises(SettingsError, match="PORTICO_BCRYPT_ROUNDS"):
        load_settings()


def test_settings_error_lists_every_problem_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTICO_ISSUER", "nope")
    monkeypatch.setenv("PORTICO_DATABASE_URL", "mysql://x")
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert "PORTICO_ISSUER" in str(info.value)
    assert "PORTICO_DATABASE_URL" in str(info.value)


def test_settings_class_accepts_explicit_values_without_any_file() -> None:
    settings = Settings(issuer="https://id.example.com", access_token_ttl=120)
    assert settings.url("/jwks") == "https://id.example.com/jwks"
