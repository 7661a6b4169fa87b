from __future__ import annotations

from localbot.charts import new_figure, to_png, wrap


def test_a_chart_becomes_png_bytes() -> None:
    figure, axes = new_figure()
    axes.bar(["a", "b"], [1, 2])
    data = to_png(figure)
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 1000


def test_wrap() -> None:
    assert wrap("Kiosk by the bus stop on the corner", 12) == "Kiosk by the\nbus stop on\nthe corner"
    assert wrap("") == ""
