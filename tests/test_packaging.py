"""The wheel a user installs: built from a copy of the sources as pip builds it, then read back.

Everything the bot reads at run time that is not Python (the translations, ``py.typed``) must be
inside it, and so must the commented example settings, surveys and tastings; and the package must
work from the wheel alone, away from the checkout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ["localbot.example.toml", "surveys/*.toml", "tastings/*.toml"]


def _sources(to: Path) -> None:
    """What pip copies from a checkout, without the developer's own settings and caches."""
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, to / name)
    shutil.copytree(ROOT / "localbot", to / "localbot", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for pattern in EXAMPLES:
        for path in (ROOT / "config").glob(pattern):
            target = to / "config" / path.relative_to(ROOT / "config")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)


def test_the_wheel_holds_the_translations_package_data_and_examples_and_works_alone(tmp_path: Path) -> None:
    source, dist, unpacked = tmp_path / "src", tmp_path / "dist", tmp_path / "unpacked"
    source.mkdir()
    _sources(source)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--quiet", "--wheel-dir", str(dist)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )
    assert built.returncode == 0, built.stderr
    [wheel] = dist.glob("localbot-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        archive.extractall(unpacked)

    package = ROOT / "localbot"
    modules = {str(p.relative_to(ROOT)) for p in package.rglob("*.py") if "__pycache__" not in p.parts}
    assert modules - names == set()
    catalogues = {str(p.relative_to(ROOT)) for p in package.glob("locales/*/LC_MESSAGES/*.po")}
    assert {c.split("/")[2] for c in catalogues} == {"pl", "id"} and len(catalogues) >= 20
    assert catalogues - names == set(), "translations missing from the wheel"
    assert "localbot/py.typed" in names
    settings_example = [n for n in names if n.endswith(".data/data/share/localbot/config/localbot.example.toml")]
    assert settings_example, "config/localbot.example.toml missing from the wheel"
    data = settings_example[0].split("/", 1)[0]
    examples = {
        f"{data}/data/share/localbot/config/{p.relative_to(ROOT / 'config')}" for pattern in EXAMPLES for p in (ROOT / "config").glob(pattern)
    }
    assert len(examples) >= 4 and examples - names == set(), "example settings, surveys or tastings missing from the wheel"
    [entry_points] = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    assert "localbot = localbot.cli:main" in (unpacked / entry_points).read_text()

    # The wheel alone, not the checkout: the catalogues load and the example settings are valid.
    example = unpacked / data / "data" / "share" / "localbot" / "config" / "localbot.example.toml"
    check = (
        "import localbot, localbot.i18n as i, localbot.settings as s;"
        "print(localbot.__file__);"
        "print(i.translator('pl')._('Polls'), i.translator('id')._('Polls'));"
        "print(s.load_settings().language)"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOCALBOT_")}
    env.update(PYTHONPATH=str(unpacked), LOCALBOT_CONFIG=str(example))
    ran = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60)
    assert ran.returncode == 0, ran.stderr
    where, polls, language = ran.stdout.splitlines()
    assert Path(where).is_relative_to(unpacked)
    assert polls == "Głosowania Polling"
    assert language in ("en", "pl", "id")
