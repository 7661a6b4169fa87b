"""The geocoder and map settings: what a deployment can set, and the one-line errors for mistakes."""

from __future__ import annotations

import pytest

from localbot.settings import SettingsError, load_settings


def test_defaults_are_openstreetmap_with_geocoding_off_until_identified() -> None:
    settings = load_settings()
    assert settings.geocoder.url == "https://nominatim.openstreetmap.org" and settings.geocoder.user_agent is None
    assert settings.map.tile_url == "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    assert settings.map.attribution == "© OpenStreetMap contributors" and settings.map.cache_days == 7


def test_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCALBOT_GEOCODER__URL", "http://127.0.0.1:8088")
    monkeypatch.setenv("LOCALBOT_GEOCODER__USER_AGENT", "  sunny-estate/1.0 (a@example.org) ")
    monkeypatch.setenv("LOCALBOT_GEOCODER__COUNTRY_CODES", "PL, id")
    monkeypatch.setenv("LOCALBOT_MAP__TILE_URL", "")
    settings = load_settings()
    assert settings.geocoder.url == "http://127.0.0.1:8088" and settings.geocoder.user_agent == "sunny-estate/1.0 (a@example.org)"
    assert settings.geocoder.country_codes == ["pl", "id"]
    assert settings.map.tile_url is None  # empty: maps on a plain background
    monkeypatch.setenv("LOCALBOT_GEOCODER__COUNTRY_CODES", '["pl"]')
    assert load_settings().geocoder.country_codes == ["pl"]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("LOCALBOT_MAP__TILE_URL", "https://tiles.example.org/{z}/{x}.png", "setting map.tile_url (LOCALBOT_MAP__TILE_URL): must contain {y}"),
        ("LOCALBOT_MAP__TILE_URL", "tiles/{z}/{x}/{y}.png", "must start with http:// or https://"),
        ("LOCALBOT_GEOCODER__URL", "nominatim.example.org", "setting geocoder.url (LOCALBOT_GEOCODER__URL): must start with http"),
        ("LOCALBOT_GEOCODER__COUNTRY_CODES", "pol", "'pol' is not a two-letter country code"),
        ("LOCALBOT_GEOCODER__TIMEOUT", "0", "setting geocoder.timeout"),
        ("LOCALBOT_MAP__CACHE_DAYS", "0", "setting map.cache_days"),
        ("LOCALBOT_MAP__MAX_ZOOM", "30", "setting map.max_zoom"),
    ],
)
def test_mistakes_name_the_setting(monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert message in str(caught.value) and "\n" not in str(caught.value)
