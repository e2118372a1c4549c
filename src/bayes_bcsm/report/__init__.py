"""Reports: the only place that draws or renders (plots, Markdown, self-contained HTML)."""
