"""Helpers for end-to-end run tests: compose a config the way Hydra would."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

from hydra import compose, initialize_config_module

from bayes_bcsm.config import register_configs
from bayes_bcsm.resources import CONF_PACKAGE


def compose_config(overrides: list[str]):
    """Compose the packaged ``conf/config.yaml`` with overrides (Hydra's compose API)."""
    register_configs()
    with initialize_config_module(config_module=CONF_PACKAGE, version_base="1.3"):
        return compose(config_name="config", overrides=overrides)


class ReportParser(HTMLParser):
    """Collects the images and tables of an HTML report."""

    def __init__(self):
        super().__init__()
        self.images: list[str] = []
        self.tables = 0
        self.headings: list[str] = []
        self._in_heading = False

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs)["src"])
        elif tag == "table":
            self.tables += 1
        elif tag in ("h1", "h2", "h3"):
            self._in_heading = True

    def handle_endtag(self, tag):
        if tag in ("h1", "h2", "h3"):
            self._in_heading = False

    def handle_data(self, data):
        if self._in_heading:
            self.headings.append(data.strip())


def parse_report(path: Path) -> ReportParser:
    """Parse an HTML report."""
    parser = ReportParser()
    parser.feed(path.read_text())
    return parser
