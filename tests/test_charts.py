"""Charts of measured figures: correct summary numbers, alt text, clear errors."""

import pytest

from replib.viz import to_png
from replib.viz.charts import bars, latency_distributions, lines, percentile, series_style


def test_percentile_is_a_measured_value():
    """Nearest rank: the 50th percentile of 1..10 is 5, the 99th is 10, the 10th is 1."""
    values = list(range(10, 0, -1))
    assert (percentile(values, 50), percentile(values, 99), percentile(values, 10)) == (5, 10, 1)
    with pytest.raises(ValueError):
        percentile([], 50)


def test_latency_alt_text_reports_median_and_p99():
    """The alt text states each series' median and 99th percentile and its sample count."""
    fig = latency_distributions({"async": [1, 2, 3, 4], "sync": [2, 4, 6, 8]})
    assert fig.alt_text == ("Cumulative latency distributions. async: median 2, 99th percentile "
                            "4 (4 samples); sync: median 4, 99th percentile 8 (4 samples).")
    assert to_png(fig).startswith(b"\x89PNG")


def test_series_differ_in_three_cues():
    """Neighbouring series differ in colour, line style and marker."""
    a, b = series_style(0), series_style(1)
    assert a["color"] != b["color"] and a["linestyle"] != b["linestyle"] and a["marker"] != b["marker"]


def test_lines_and_bars_alt_text():
    fig = lines([1, 2], {"sync": [2, 3]}, xlabel="backups", ylabel="latency")
    assert fig.alt_text == "Line chart of latency against backups: sync (1: 2, 2: 3)."
    fig = bars({"async": 1, "sync": 2}, ylabel="messages per backup")
    assert fig.alt_text == "Bar chart of messages per backup: async 1, sync 2."


def test_bad_input_is_a_value_error():
    with pytest.raises(ValueError, match="non-empty dict"):
        latency_distributions([1, 2, 3])
    with pytest.raises(ValueError, match="finite numbers"):
        latency_distributions({"a": [1, float("nan")]})
    with pytest.raises(ValueError, match="has 1 values for 2 x values"):
        lines([1, 2], {"a": [1]})
