"""Render reports: Markdown tables from frames, and self-contained HTML with embedded images."""

from __future__ import annotations

import base64
import html
import json
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from markdown_it import MarkdownIt

from bayes_bcsm.atomic import write_text_atomic
from bayes_bcsm.report.sentences import P_FLOOR

if TYPE_CHECKING:
    from bayes_bcsm.results import RunInputs

RECONSTRUCTION_NOTICE = (
    "**Data notice.** The bundled cohort is a *reconstruction* calibrated to the published "
    "aggregates of Hu et al. (2025), not the study's patient data."
)

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 72rem; margin: 2rem auto; padding: 0 1rem;
       color: #222; line-height: 1.45; }
table { border-collapse: collapse; margin: 0.8rem 0; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: right; }
th { background: #f3f3f3; }
td:first-child, th:first-child { text-align: left; }
img { max-width: 100%; }
code { background: #f5f5f5; padding: 0 0.2rem; }
"""


def _finite(value: object) -> object:
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def strict_json(value: object, indent: int | None = 2) -> str:
    """``value`` as strict JSON (RFC 8259): NaN and infinities become ``null``.

    Python's ``json`` writes ``NaN`` / ``Infinity`` by default, which strict parsers (browsers,
    ``jq``, most other languages) reject; every JSON file a run writes goes through here.
    """
    return json.dumps(_finite(value), indent=indent, allow_nan=False) + "\n"


def report_opening(title: str, inputs: RunInputs) -> list[str]:
    """The first lines of every run report: title, the data notice, what the data are (from
    the dataset card), the cohort accounting, and the unit of each continuous covariate's HR."""
    lines = [f"# {title}", ""]
    if inputs.is_reconstruction:
        lines += [RECONSTRUCTION_NOTICE, ""]
    lines += ["## Data", "", f"{inputs.card.title} (dataset card `{inputs.card.name}`).", ""]
    lines += ["```", inputs.cohort.accounting.describe(), "```", ""]
    units = [f"{c.column} {c.hr_unit}" for c in inputs.card.covariates if c.kind == "continuous"]
    if units:
        lines += [f"Hazard ratios of continuous covariates: {'; '.join(units)}.", ""]
    return lines


def format_number(value: object, digits: int = 3) -> str:
    """Format a cell for a report table.

    Floats get ``digits`` significant digits (fixed notation between 1e-3 and 1e4, otherwise
    scientific; an exact zero prints as ``0``), integers print as integers, booleans as
    yes/no, NaN / None as an empty cell.
    """
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        value = float(value)
        if value == 0:
            return "0"  # exactly: not "0.0" beside "1.00" in a column of 3 digits
        if not math.isfinite(value):
            return str(value)
        if not 1e-3 <= abs(value) < 1e4:
            return f"{value:.{digits}g}"
        decimals = max(digits - 1 - math.floor(math.log10(abs(value))), 0)
        return f"{value:.{decimals}f}"
    return str(value)


#: A P value below :data:`~bayes_bcsm.report.sentences.P_FLOOR` (one that underflowed to 0)
#: prints as this.
P_UNDERFLOW = f"<{P_FLOOR:g}"


def format_p_value(p: float, digits: int = 3) -> str:
    """A P value for a report: :data:`P_UNDERFLOW` where it underflowed to 0 (never ``0.0``),
    else as :func:`format_number`."""
    if isinstance(p, float | np.floating) and p < P_FLOOR:
        return P_UNDERFLOW
    return format_number(p, digits)


def markdown_table(frame: pd.DataFrame, digits: int = 3, index: bool = False) -> str:
    """A DataFrame as a GitHub-flavoured Markdown table with sensibly rounded numbers.

    Parameters
    ----------
    frame : DataFrame
        Table to render.
    digits : int
        Significant digits for floats.
    index : bool
        Whether to include the index as the first column.

    Columns named ``p_value...`` are P values (:func:`format_p_value`).
    """
    table = frame.reset_index() if index else frame
    p_columns = {k for k, c in enumerate(table.columns) if str(c).startswith("p_value")}
    header = "| " + " | ".join(str(c) for c in table.columns) + " |"
    rule = "|" + "|".join("---" for _ in table.columns) + "|"
    rows = [
        "| "
        + " | ".join(
            (format_p_value if k in p_columns else format_number)(v, digits).replace("|", "\\|")
            for k, v in enumerate(row)
        )
        + " |"
        for row in table.itertuples(index=False, name=None)
    ]
    return "\n".join([header, rule, *rows])


def markdown_to_html(markdown: str, title: str, base_dir: str | Path) -> str:
    """Render Markdown to one self-contained HTML page, embedding every local image as base64.

    Parameters
    ----------
    markdown : str
        Report text; images referenced as ``![alt](file.png)`` relative to ``base_dir``.
    title : str
        Page title.
    base_dir : str or Path
        Folder the image paths are relative to.

    Returns
    -------
    str
        HTML that opens in any browser with no other file.

    Raises
    ------
    FileNotFoundError
        If an image the report references does not exist (never a silently broken report).
    """
    body = MarkdownIt("commonmark").enable("table").render(markdown)
    base = Path(base_dir)

    def embed(match: re.Match[str]) -> str:
        source = html.unescape(match.group(1))
        if source.startswith("data:"):
            return match.group(0)
        path = base / source
        if not path.is_file():
            raise FileNotFoundError(f"report image not found: {path}")
        mime = "image/png" if path.suffix.lower() == ".png" else "image/svg+xml"
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        return f'src="data:{mime};base64,{data}"'

    body = re.sub(r'src="([^"]+)"', embed, body)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n"
        f"<body>\n{body}</body>\n</html>\n"
    )


def write_report(
    folder: str | Path, markdown: str, title: str, html_too: bool = True
) -> Sequence[Path]:
    """Write ``report.md`` (and ``report.html``) into ``folder``; return the paths written.

    The HTML page is titled by the report's first heading (``# ...``), else by ``title``.
    """
    folder = Path(folder)
    headings = [line[2:].strip() for line in markdown.splitlines() if line.startswith("# ")]
    title = headings[0] if headings else title
    md_path = folder / "report.md"
    write_text_atomic(md_path, markdown)
    written = [md_path]
    if html_too:
        html_path = folder / "report.html"
        write_text_atomic(html_path, markdown_to_html(markdown, title, folder))
        written.append(html_path)
    return written
