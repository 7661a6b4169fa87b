"""The console adapter as a user meets it: a script piped into ``localbot shell`` in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def localbot(*args: str, stdin: str = "", cwd: Path, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LOCALBOT_")}
    clean.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "localbot", *args], input=stdin, capture_output=True, text=True, cwd=cwd, env=clean, timeout=timeout
    )


SCRIPT = """\
/poll --until 2h Where do we meet? | Kiosk | Library | Park
:as bartek
2
/results
:as celina
/lang pl
1
9
/close
:as anna
/close 5
:wait 3h
/results
"""


def test_a_piped_script_runs_and_exits_zero(tmp_path: Path) -> None:
    done = localbot("shell", stdin=SCRIPT, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "anna@group> /poll --until 2h Where do we meet?" in out
    assert "1) Kiosk\n" in out and "2) Library\n" in out and "3) Park\n" in out
    assert "only bartek sees: ✓ Your vote: Library" in out
    assert "only celina sees: ✓ Twój głos: Kiosk" in out
    assert "Odpowiedz liczbą od 1 do 3." in out
    assert "Tylko organizatorzy mogą używać /close." in out
    assert "There is no poll #5." in out
    assert "(time moves on by 3h" in out
    assert "🏁 Poll #1 is closed: Where do we meet?" in out
    assert "A tie between Kiosk, Library." in out
    assert (tmp_path / "localbot.db").is_file()  # the embedded default


def test_private_chat_wizard_location_photo_and_meta_errors(tmp_path: Path) -> None:
    photo = tmp_path / "shelf.jpg"
    photo.write_bytes(b"\xff\xd8\xff fake jpeg")
    script = f"""\
/poll
:private
Lunch?
Pizza | Soup
1
1
1
1
1
:as bartek
:private
:loc 52.2297 21.0122
:loc north south
:photo {photo}
:photo /nope/missing.jpg
:wait soon
:as no spaces allowed
:dance
:help
"""
    done = localbot("shell", stdin=script, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "Anna, I've sent you a private message." in out
    assert "bot → anna (private): Let's make a poll." in out
    assert "Posted to Console neighbourhood." in out
    assert "bot → group: 📊 Poll #1: Lunch?" in out
    assert "nothing needs a location from you right now" in out
    assert "(usage: :loc LATITUDE LONGITUDE" in out
    assert "nothing needs a photo from you right now" in out
    assert "(no such file: /nope/missing.jpg" in out
    assert "(usage: :wait DURATION" in out
    assert "(usage: :as NAME" in out
    assert "(unknown console command :dance" in out
    assert ":as NAME        become another member" in out


def test_a_wrong_answer_to_numbered_choices_asks_for_a_number_in_the_members_language(tmp_path: Path) -> None:
    (tmp_path / "shelf.jpg").write_bytes(b"\xff\xd8\xff fake jpeg")
    script = """\
/poll
:private
Lunch?
Pizza | Soup
1
maybe
1
1
:photo shelf.jpg
:as bartek
:private
/lang pl
/forgetme
może
:as citra
:private
/lang id
/forgetme
mungkin
"""
    done = localbot("shell", stdin=script, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "button" not in out.lower() and "przycisk" not in out and "tombol" not in out
    assert "anna@private> maybe\nbot → anna (private): Please reply with one of the numbers.\nbot → anna (private): Can people pick one" in out
    assert "anna@private> :photo shelf.jpg\nbot → anna (private): Please reply with one of the numbers or type a time.\n" in out
    assert "bartek@private> może\nbot → bartek (private): Odpowiedz jednym z numerów.\nbot → bartek (private): Czy mam Cię zapomnieć?" in out
    assert "citra@private> mungkin\nbot → citra (private): Silakan balas dengan salah satu angka.\n" in out


def test_state_survives_between_console_runs(tmp_path: Path) -> None:
    localbot("shell", stdin="/poll Q? | A | B\n", cwd=tmp_path)
    second = localbot("shell", "--as", "bartek", stdin="/results\n1\n/results\n", cwd=tmp_path)
    assert "Results of poll #1 (open): Q?" in second.stdout and "1 person voted." in second.stdout


def test_run_without_credentials_starts_the_console(tmp_path: Path) -> None:
    done = localbot("run", stdin="/help\n", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Here is what I can do:" in done.stdout
    assert (tmp_path / "localbot.db").is_file()


def test_demo_leaves_a_database(tmp_path: Path) -> None:
    done = localbot("demo", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "🏁 Poll #1 is closed" in done.stdout and "🏁 Poll #2 is closed" in done.stdout
    assert (tmp_path / "localbot-demo.db").is_file()
    exported = localbot("--db", "localbot-demo.db", "export", "polls", cwd=tmp_path)
    assert exported.returncode == 0 and exported.stdout.startswith("poll,community,question,option,voter,channel,time")


def test_the_console_script_is_installed(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("localbot")
    if not script.exists():
        pytest.skip("not installed as a console script in this environment")
    done = subprocess.run([str(script), "--version"], capture_output=True, text=True, cwd=tmp_path, timeout=30)
    assert done.returncode == 0 and "localbot, version" in done.stdout
