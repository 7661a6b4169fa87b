"""Settings: environment, .env and TOML, in that order, with one-line errors naming the setting."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from pydantic import BaseModel

from localbot.settings import Settings, SettingsError, load_settings

EXAMPLE = Path(__file__).resolve().parent.parent / "config" / "localbot.example.toml"


def test_defaults(tmp_path: Path) -> None:
    settings = load_settings()
    assert settings.database == Path("localbot.db")
    assert settings.language == "en" and settings.timezone == "UTC" and settings.organisers == []
    assert not settings.telegram_enabled and not settings.twilio_enabled


def test_environment_beats_dotenv_beats_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "localbot.toml").write_text(
        'language = "pl"\ntimezone = "Europe/Warsaw"\ndatabase = "from-toml.db"\n[http]\nport = 9000\n'
    )
    (tmp_path / ".env").write_text("LOCALBOT_DATABASE=from-dotenv.db\nUNRELATED=1\n")
    monkeypatch.setenv("LOCALBOT_LANGUAGE", "id")
    monkeypatch.setenv("LOCALBOT_TELEGRAM__TOKEN", "123:abc")
    monkeypatch.setenv("LOCALBOT_ORGANISERS", "telegram:123, whatsapp:+48600100200")
    settings = load_settings()
    assert settings.language == "id"  # env
    assert settings.database == Path("from-dotenv.db")  # .env over TOML
    assert settings.timezone == "Europe/Warsaw" and settings.http.port == 9000  # TOML
    assert settings.organisers == ["telegram:123", "whatsapp:+48600100200"]
    assert settings.telegram_enabled and "abc" not in repr(settings)


def test_config_path_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "elsewhere.toml").write_text('language = "pl"\n')
    monkeypatch.setenv("LOCALBOT_CONFIG", str(tmp_path / "elsewhere.toml"))
    assert load_settings().language == "pl"
    monkeypatch.setenv("LOCALBOT_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(SettingsError, match="LOCALBOT_CONFIG: no such file"):
        load_settings()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("LOCALBOT_TIMEZONE", "Mars/Olympus", "setting timezone (LOCALBOT_TIMEZONE): unknown time zone 'Mars/Olympus'"),
        ("LOCALBOT_LANGUAGE", "fr", "setting language (LOCALBOT_LANGUAGE)"),
        ("LOCALBOT_HTTP__PORT", "99999", "setting http.port (LOCALBOT_HTTP__PORT)"),
        ("LOCALBOT_ORGANISERS", "bob", "setting organisers (LOCALBOT_ORGANISERS): 'bob' is not of the form messenger:id"),
        ("LOCALBOT_ORGANISERS", "signal:123", "unknown messenger 'signal'"),
        ("LOCALBOT_TELEGRAM__API_URL", "ftp://x", "setting telegram.api_url (LOCALBOT_TELEGRAM__API_URL): must start with http"),
    ],
)
def test_bad_values_name_the_setting_in_one_line(monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_bad_toml(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    path = tmp_path / "config" / "localbot.toml"
    path.write_text('languag = "pl"\n')
    with pytest.raises(SettingsError, match="unknown setting 'languag'"):
        load_settings()
    path.write_text('[telegram]\ntokn = "x"\n')
    with pytest.raises(SettingsError, match="telegram.tokn"):
        load_settings()
    path.write_text('language = "pl\n')
    with pytest.raises(SettingsError, match="localbot.toml"):
        load_settings()


def _keys(model: type[BaseModel], prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys |= _keys(annotation, f"{prefix}{name}.")
        else:
            keys.add(prefix + name)
    return keys


def _toml_keys(text: str) -> set[str]:
    """Keys of the example, counting commented-out ``# key = value`` lines as documented."""
    keys: set[str] = set()
    section = ""
    for raw in text.splitlines():
        line = raw.lstrip("# ").strip()
        if line.startswith("[") and line.endswith("]"):
            section = line.strip("[]") + "."
        elif "=" in line and not line.startswith(("-", "(")):
            key = line.split("=", 1)[0].strip()
            if key.replace("_", "").isalnum():
                keys.add(section + key)
    return keys


def test_example_config_documents_every_setting_and_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    text = EXAMPLE.read_text()
    missing = _keys(Settings) - _toml_keys(text)
    assert not missing, f"config/localbot.example.toml does not document {sorted(missing)}"
    tomllib.loads(text)
    monkeypatch.setenv("LOCALBOT_CONFIG", str(EXAMPLE))
    settings = load_settings()
    assert settings.language in ("en", "pl", "id")


def test_readme_lists_every_setting() -> None:
    from localbot.settings import env_name

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    missing = [env_name(tuple(key.split("."))) for key in sorted(_keys(Settings)) if env_name(tuple(key.split("."))) not in readme]
    assert missing == [], f"README settings table lacks {missing}"


def test_every_template_purpose_is_documented() -> None:
    """Operators register a template per purpose: README's WhatsApp section and the example settings
    must name every purpose the settings accept."""
    from localbot.settings import TEMPLATE_PURPOSES

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme[readme.index("### Templates to register") : readme.index("## Telegram")]
    example = EXAMPLE.read_text()
    assert [p for p in TEMPLATE_PURPOSES if f"`{p}`" not in section] == []
    assert [p for p in TEMPLATE_PURPOSES if p not in example] == []
    assert "tasting_questions" in TEMPLATE_PURPOSES


def _start(cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The real command, as an organiser starts it: a one-line message and exit code 2, or nothing."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LOCALBOT_")}
    return subprocess.run(
        [sys.executable, "-m", "localbot", "db", "migrate"], capture_output=True, text=True, cwd=cwd, env={**clean, **env}, timeout=60
    )


@pytest.mark.parametrize(
    ("where", "name", "value", "message"),
    [
        ("env", "LOCALBOT_TWILIO__TEMPLATES", "not json", 'localbot: LOCALBOT_TWILIO__TEMPLATES: not valid JSON (Expecting value at character 1); write a JSON object such as {"key": "value"}'),
        ("env", "LOCALBOT_TELEGRAM", "oops", "localbot: LOCALBOT_TELEGRAM: not valid JSON (Expecting value at character 1); "
         'write a JSON object such as {"token": "…"}, or one variable per key such as LOCALBOT_TELEGRAM__TOKEN'),
        ("env", "LOCALBOT_TELEGRAM", '{"token": "123:hush"', "localbot: LOCALBOT_TELEGRAM: not valid JSON (Expecting ',' delimiter at character 21)"),
        ("env", "localbot_twilio__quick_replies", "[1", "localbot: LOCALBOT_TWILIO__QUICK_REPLIES: not valid JSON"),
        (".env", "LOCALBOT_HTTP", "{port: 1}", "localbot: LOCALBOT_HTTP in .env: not valid JSON (Expecting property name enclosed in double quotes at character 2)"),
        (".env", "LOCALBOT_TELEGRAM__API_URL", "ftp://x", "localbot: setting telegram.api_url (LOCALBOT_TELEGRAM__API_URL in .env): must start with http"),
        ("toml", "twilio.templates", '"not json"', "localbot: setting twilio.templates (in config/localbot.toml): Input should be a valid dictionary"),
        ("toml", "http.port", '"x"', "localbot: setting http.port (in config/localbot.toml): Input should be a valid integer"),
    ],
)
def test_a_broken_value_names_its_variable_or_file_and_what_is_wrong(tmp_path: Path, where: str, name: str, value: str, message: str) -> None:
    env: dict[str, str] = {}
    if where == "env":
        env[name] = value
    elif where == ".env":
        (tmp_path / ".env").write_text(f"{name}='{value}'\n")
    else:
        section, key = name.split(".")
        (tmp_path / "config").mkdir()
        (tmp_path / "config" / "localbot.toml").write_text(f"[{section}]\n{key} = {value}\n")
    done = _start(tmp_path, env)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(message), done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "hush" not in done.stderr and "SettingsSource" not in done.stderr
    assert not (tmp_path / "localbot.db").exists()
