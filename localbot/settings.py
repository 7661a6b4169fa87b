"""Settings from the environment, a ``.env`` file and ``config/localbot.toml``.

Precedence, highest first: explicit arguments, environment variables (``LOCALBOT_…``, nested with
``__``), ``.env``, the TOML file (``LOCALBOT_CONFIG`` or ``config/localbot.toml``). A bad value stops
start-up with :class:`SettingsError`, whose message is one line naming the setting, because an
organiser installing the bot should not have to read a traceback.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)
from pydantic_settings import SettingsError as SourceError

from localbot.refs import RefError, parse_ref

SUPPORTED_LANGUAGES: tuple[str, ...] = ("en", "pl", "id")
Language = Literal["en", "pl", "id"]
DEFAULT_CONFIG = Path("config/localbot.toml")
ENV_PREFIX = "LOCALBOT_"
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")


class SettingsError(Exception):
    """Start-up cannot continue; ``str()`` is a one-line message for the person running the bot."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _http_url(value: str | None) -> str | None:
    if value is not None and not value.startswith(("http://", "https://")):
        raise ValueError("must start with http:// or https://")
    return value


class TelegramSettings(_Section):
    #: Bot token from @BotFather. Setting it makes ``localbot run`` start the Telegram adapter.
    token: SecretStr | None = None
    #: Bot API base URL, for a self-hosted Bot API server (and for tests).
    api_url: str = "https://api.telegram.org/bot"
    #: Base URL for file downloads; derived from ``api_url`` when unset.
    file_url: str | None = None
    #: Public HTTPS URL Telegram should post updates to; unset means long polling.
    webhook_url: str | None = None
    #: Shared secret Telegram sends in ``X-Telegram-Bot-Api-Secret-Token`` with every webhook call.
    secret_token: SecretStr | None = None

    _urls = field_validator("api_url", "file_url", "webhook_url")(_http_url)

    @field_validator("secret_token")
    @classmethod
    def _secret_alphabet(cls, value: SecretStr | None) -> SecretStr | None:
        """Telegram accepts 1-256 characters of ``A-Z a-z 0-9 _ -`` and refuses the webhook otherwise."""
        if value is not None and not _SECRET_TOKEN.fullmatch(value.get_secret_value()):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value


#: Outbox purposes that may reach a WhatsApp member whose 24-hour window is closed, and so may
#: name an approved template (``live`` edits never go to WhatsApp).
TEMPLATE_PURPOSES: tuple[str, ...] = (
    "message", "conversation", "poll", "results", "broadcast", "reminder", "prompt", "digest", "tasting_questions",
)
_CONTENT_SID = re.compile(r"HX[0-9a-fA-F]{32}")


class TwilioSettings(_Section):
    account_sid: str | None = None
    auth_token: SecretStr | None = None
    #: The WhatsApp sender, e.g. ``whatsapp:+14155238886`` (the Twilio sandbox number).
    whatsapp_from: str | None = None
    #: The public base URL Twilio calls (signatures are checked against it).
    public_url: str | None = None
    #: Twilio API base URL, for tests and Twilio-compatible gateways.
    api_url: str | None = None
    #: Approved content templates by purpose (``reminder``, ``broadcast``, ``prompt``): content SIDs.
    templates: dict[str, str] = Field(default_factory=dict)
    #: In-session ``twilio/quick-reply`` templates by number of buttons (1 to 3): content SIDs.
    quick_replies: dict[int, str] = Field(default_factory=dict)
    #: Most messages per second through this sender; Twilio queues WhatsApp at about 10 a second.
    messages_per_second: float = Field(default=10.0, gt=0, le=1000)

    _urls = field_validator("public_url", "api_url")(_http_url)

    @field_validator("whatsapp_from")
    @classmethod
    def _whatsapp_address(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"whatsapp:\+\d{6,16}", value):
            raise ValueError("must look like whatsapp:+14155238886")
        return value

    @field_validator("templates")
    @classmethod
    def _known_purposes(cls, value: dict[str, str]) -> dict[str, str]:
        for purpose, sid in value.items():
            if purpose not in TEMPLATE_PURPOSES:
                raise ValueError(f"unknown purpose {purpose!r} (use {', '.join(TEMPLATE_PURPOSES)})")
            _check_content_sid(sid)
        return value

    @field_validator("quick_replies")
    @classmethod
    def _button_counts(cls, value: dict[int, str]) -> dict[int, str]:
        for buttons, sid in value.items():
            if not 1 <= buttons <= 3:
                raise ValueError(f"quick replies have 1 to 3 buttons in a WhatsApp session, not {buttons}")
            _check_content_sid(sid)
        return value


def _check_content_sid(sid: str) -> None:
    if not _CONTENT_SID.fullmatch(sid):
        raise ValueError(f"{sid!r} is not a content SID (HX followed by 32 hexadecimal digits)")


class HttpSettings(_Section):
    #: Where the web process (webhooks, media, health check) listens.
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)


def _split_list(value: Any) -> Any:
    """A list from the environment may be written ``pl,de`` as well as JSON."""
    if isinstance(value, str):
        value = value.strip()
        if value.startswith("["):
            return json.loads(value)
        return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
    return value


class GeocoderSettings(_Section):
    #: The Nominatim service that turns addresses into coordinates.
    url: str = "https://nominatim.openstreetmap.org"
    #: Identifies this bot to Nominatim (its usage policy requires it); unset: no address look-ups.
    user_agent: str | None = None
    #: Seconds to wait for an answer before telling the member to send a pin instead.
    timeout: float = Field(default=5.0, gt=0, le=30)
    #: Only search these countries (ISO 3166-1 alpha-2 codes such as pl, id); empty: everywhere.
    country_codes: Annotated[list[str], NoDecode] = Field(default_factory=list)

    _urls = field_validator("url")(_http_url)

    @field_validator("user_agent")
    @classmethod
    def _real_agent(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            return None
        return value.strip() if value else value

    @field_validator("country_codes", mode="before")
    @classmethod
    def _codes(cls, value: Any) -> Any:
        value = _split_list(value)
        if isinstance(value, list):
            value = [str(code).strip().lower() for code in value]
            for code in value:
                if len(code) != 2 or not code.isalpha():
                    raise ValueError(f"{code!r} is not a two-letter country code")
        return value


class MapSettings(_Section):
    #: Map tiles, OpenStreetMap style, with {z}, {x} and {y}; empty: maps on a plain background.
    tile_url: str | None = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    #: Drawn on every map picture: the tiles' licence requires it.
    attribution: str = "© OpenStreetMap contributors"
    #: Sent with tile requests; unset: geocoder.user_agent, else "localbot/<version>".
    user_agent: str | None = None
    #: Seconds to wait for the tiles of one picture before drawing without the missing ones.
    timeout: float = Field(default=5.0, gt=0, le=30)
    #: How long downloaded tiles are kept and reused (OpenStreetMap asks for at least 7 days).
    cache_days: int = Field(default=7, ge=1, le=365)
    #: The closest zoom level a map picture may use (the tile server's limit).
    max_zoom: int = Field(default=18, ge=1, le=22)

    @field_validator("tile_url")
    @classmethod
    def _template(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        _http_url(value)
        missing = [part for part in ("{z}", "{x}", "{y}") if part not in value]
        if missing:
            raise ValueError(f"must contain {', '.join(missing)}")
        return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        env_file=".env",
        env_file_encoding="utf-8",
        # .env files often hold other programs' variables too; unknown TOML keys are caught in
        # load_settings instead, and the nested sections forbid unknown keys themselves.
        extra="ignore",
        validate_default=True,
    )

    #: The SQLite file that holds everything the bot knows.
    database: Path = Path("localbot.db")
    #: Language for communities that have not chosen one (en, pl or id).
    language: Language = "en"
    #: Time zone for new communities (an IANA name such as Europe/Warsaw).
    timezone: str = "UTC"
    #: Member references that are organisers in every community.
    organisers: Annotated[list[str], NoDecode] = Field(default_factory=list)
    #: Python logging level.
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    #: Where photos, charts and exports are kept; defaults to ``<database>.media/`` next to the database.
    media_dir: Path | None = None

    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    twilio: TwilioSettings = Field(default_factory=TwilioSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    geocoder: GeocoderSettings = Field(default_factory=GeocoderSettings)
    map: MapSettings = Field(default_factory=MapSettings)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Europe/Warsaw)") from None
        return value

    @field_validator("language", mode="before")
    @classmethod
    def _lower_language(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("organisers", mode="before")
    @classmethod
    def _split_organisers(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [part for part in value.replace(";", ",").split(",")]
        if isinstance(value, list):
            value = [str(part).strip() for part in value if str(part).strip()]
            for ref in value:
                try:
                    parse_ref(ref)
                except RefError as exc:
                    raise ValueError(str(exc)) from None
        return value

    @property
    def media_path(self) -> Path:
        return self.media_dir or self.database.with_name(self.database.name + ".media")

    @property
    def telegram_enabled(self) -> bool:
        return self.telegram.token is not None and bool(self.telegram.token.get_secret_value())

    @property
    def twilio_enabled(self) -> bool:
        t = self.twilio
        return bool(t.account_sid and t.auth_token and t.whatsapp_from and t.public_url)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=config_path())
        return init_settings, env_settings, dotenv_settings, toml, file_secret_settings


def config_path() -> Path:
    """The TOML file to read: ``LOCALBOT_CONFIG`` if set, else ``config/localbot.toml``."""
    return Path(os.environ.get(f"{ENV_PREFIX}CONFIG", str(DEFAULT_CONFIG)))


def env_name(loc: tuple[int | str, ...]) -> str:
    """``("telegram", "token")`` → ``LOCALBOT_TELEGRAM__TOKEN``."""
    return ENV_PREFIX + "__".join(str(part).upper() for part in loc if not isinstance(part, int))


def load_settings(**overrides: Any) -> Settings:
    """Read all sources; raise :class:`SettingsError` with one line naming the first bad setting."""
    explicit = os.environ.get(f"{ENV_PREFIX}CONFIG")
    if explicit and not Path(explicit).is_file():
        raise SettingsError(f"{ENV_PREFIX}CONFIG: no such file {explicit!r}")
    _check_toml_keys(config_path())
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(first["loc"])
        fields, rest = _split_loc(loc)
        message = first["msg"]
        if message.startswith("Value error, "):
            message = message[len("Value error, "):]
        if first["type"] == "extra_forbidden":
            fields, rest = (*fields, *map(str, rest)), ()
            message = "unknown setting (see config/localbot.example.toml)"
        if rest:
            message = f"entry {'.'.join(str(part) for part in rest if part != '[key]')!r}: {message}"
        extra = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise SettingsError(f"setting {'.'.join(fields)} ({_origin(fields)}): {message}{extra}") from None
    except SourceError as exc:  # a source could not even be read: JSON in a variable, mostly
        raise SettingsError(_source_problem(exc)) from None
    except (OSError, ValueError) as exc:  # an unreadable or malformed TOML file
        raise SettingsError(f"{config_path()}: {exc}".replace("\n", " ")) from None


def _split_loc(loc: tuple[int | str, ...]) -> tuple[tuple[str, ...], tuple[int | str, ...]]:
    """A validation error's location as the setting (model fields) and what lies inside its value
    (a dictionary's key, a list's index)."""
    model: Any = Settings
    fields: list[str] = []
    for number, part in enumerate(loc):
        if not (isinstance(part, str) and isinstance(model, type) and issubclass(model, BaseModel) and part in model.model_fields):
            return tuple(fields), loc[number:]
        fields.append(part)
        model = model.model_fields[part].annotation
    return tuple(fields), ()


def _dotenv() -> dict[str, str]:
    from dotenv import dotenv_values  # pydantic-settings' own .env reader

    path = Path(str(Settings.model_config.get("env_file") or ".env"))
    if not path.is_file():
        return {}
    return {name.upper(): value or "" for name, value in dotenv_values(path, encoding="utf-8").items()}


def _origin(fields: tuple[str, ...]) -> str:
    """Where a setting's value came from: its variable (or a whole section's), in the environment
    or in .env, else the TOML file; the variable's name when none of them holds it."""
    environment = {name.upper() for name in os.environ}
    dotenv = _dotenv()
    for size in range(len(fields), 0, -1):
        if env_name(fields[:size]) in environment:
            return env_name(fields[:size])
    for size in range(len(fields), 0, -1):
        if env_name(fields[:size]) in dotenv:
            return f"{env_name(fields[:size])} in .env"
    path = config_path()
    if fields and path.is_file():
        try:
            data: Any = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            data = {}
        for part in fields:
            data = data.get(part) if isinstance(data, dict) else None
        if data is not None:
            return f"in {path}"
    return env_name(fields)


_SOURCE_FIELD = re.compile(r'field "(?P<field>[^"]+)" from source "(?P<source>\w+)"')


def _source_problem(exc: SourceError) -> str:
    """pydantic-settings names only the top-level field and its own class for the source, and the
    variable that holds the broken JSON may be a nested one: find it, without echoing its value
    (it may hold a secret)."""
    match = _SOURCE_FIELD.search(str(exc))
    cause = exc.__cause__
    detail = f"{cause.msg} at character {cause.pos + 1}" if isinstance(cause, json.JSONDecodeError) else str(cause or exc)
    if match is None:
        return f"settings: {detail}".replace("\n", " ")
    field, source = match["field"], match["source"]
    if source == "EnvSettingsSource":
        variables, where = {name.upper(): value for name, value in os.environ.items()}, ""
    elif source == "DotEnvSettingsSource":
        variables, where = _dotenv(), " in .env"
    else:
        return f"{config_path()}: setting {field}: {detail}".replace("\n", " ")
    whole = env_name((field,))
    for name in sorted(variables):
        if name != whole and not name.startswith(whole + "__"):
            continue
        kind = _json_kind(tuple(name[len(ENV_PREFIX):].lower().split("__")))
        if kind is None:
            continue
        try:
            json.loads(variables[name])
        except ValueError:
            return f"{name}{where}: not valid JSON ({detail}); {kind}"
    return f"{whole} (or a {whole}__… variable){where}: {detail}".replace("\n", " ")


def _json_kind(fields: tuple[str, ...]) -> str | None:
    """What a variable naming ``fields`` must hold when pydantic-settings reads it as JSON, or
    None when it takes the text as it is."""
    model: Any = Settings
    field = None
    for part in fields:
        if not (isinstance(model, type) and issubclass(model, BaseModel) and part in model.model_fields):
            return None
        field = model.model_fields[part]
        model = field.annotation
    if field is None or any(isinstance(meta, NoDecode) or meta is NoDecode for meta in field.metadata):
        return None
    annotation = field.annotation
    origin = getattr(annotation, "__origin__", None)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        key = next(iter(annotation.model_fields))
        return f'write a JSON object such as {{"{key}": "…"}}, or one variable per key such as {env_name((*fields, key))}'
    if origin is dict:
        return 'write a JSON object such as {"key": "value"}'
    if origin in (list, tuple, set):
        return 'write a JSON array such as ["a", "b"]'
    return None


def _check_toml_keys(path: Path) -> None:
    """A misspelt top-level key in the TOML file would otherwise be ignored without a word."""
    if not path.is_file():
        return
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"{path}: {exc}".replace("\n", " ")) from None
    unknown = sorted(set(data) - set(Settings.model_fields))
    if unknown:
        raise SettingsError(f"{path}: unknown setting {unknown[0]!r} (see config/localbot.example.toml)")
