"""Markdown tables and self-contained HTML reports."""

from __future__ import annotations

import base64
from html.parser import HTMLParser

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from bayes_bcsm.report.render import (
    format_number,
    markdown_table,
    markdown_to_html,
    write_report,
)


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images: list[str] = []
        self.tables = 0

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs)["src"])
        if tag == "table":
            self.tables += 1


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0703, "0.0703"),
        (0.07, "0.0700"),
        (1.2154, "1.22"),
        (50.0, "50.0"),
        (153.5, "154"),
        (0.00012, "0.00012"),
        (0.0, "0"),
        (-0.0, "0"),
        (float("inf"), "inf"),
        (12345.0, "1.23e+04"),
        (np.float64(0.5), "0.500"),
        (np.int64(78), "78"),
        (48, "48"),
        (True, "yes"),
        (float("nan"), ""),
        (None, ""),
        (pd.NA, ""),
        ("weibull", "weibull"),
    ],
)
def test_format_number(value, text):
    assert format_number(value) == text


def test_markdown_table_rounds_and_escapes():
    frame = pd.DataFrame({"covariate": ["a|b", "c"], "hr": [0.07012, 1.5], "n": [53, 78]})
    assert markdown_table(frame).splitlines() == [
        "| covariate | hr | n |",
        "|---|---|---|",
        "| a\\|b | 0.0701 | 53 |",
        "| c | 1.50 | 78 |",
    ]


def test_html_report_embeds_every_image_and_table(tmp_path):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    fig.savefig(tmp_path / "km.png")
    plt.close(fig)
    md = "# Title\n\n" + markdown_table(pd.DataFrame({"a": [1.0]})) + "\n\n![KM](km.png)\n"
    paths = write_report(tmp_path, md, "A report")
    assert [p.name for p in paths] == ["report.md", "report.html"]
    parser = _Collector()
    parser.feed((tmp_path / "report.html").read_text())
    assert parser.tables == 1
    assert len(parser.images) == 1
    prefix = "data:image/png;base64,"
    assert parser.images[0].startswith(prefix)
    assert base64.b64decode(parser.images[0][len(prefix) :]) == (tmp_path / "km.png").read_bytes()


def test_missing_image_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="report image not found"):
        markdown_to_html("![x](missing.png)", "t", tmp_path)
