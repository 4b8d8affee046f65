"""The run's report for people without JupyterLab: each executed notebook as HTML, and an index page.

`hm run` converts every notebook it executes to ``<name>.html`` beside the ``.ipynb`` (nbconvert's
HTML export, plots embedded as images, so one file opens anywhere) and rewrites
``{output_dir}/index.html``: the mode and cut-off, each stage with its time and links, the scores
when validating and the submission otherwise.
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

from hm_lib.io import atomic_path

INDEX_FILE = "index.html"
STYLE = ("body{font-family:system-ui,sans-serif;max-width:52em;margin:2em auto;padding:0 1em;color:#222}"
         "table{border-collapse:collapse}td,th{padding:.3em .8em;border-bottom:1px solid #ddd;text-align:left}"
         "td.n{text-align:right}code{background:#f4f4f4;padding:0 .2em}")


@dataclass(frozen=True)
class StageRow:
    """A stage of the run as the index lists it: its executed notebook and seconds (None: not run)."""

    name: str
    notebook: Path
    seconds: float | None


def notebook_html(notebook: Path) -> Path:
    """Write ``notebook`` as a self-contained HTML page beside it (atomically); returns its path."""
    import nbformat
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter(template_name="lab").from_notebook_node(nbformat.read(notebook, as_version=4),
                                                                   resources={"metadata": {"name": notebook.stem}})
    out = notebook.with_suffix(".html")
    with atomic_path(out) as tmp:
        tmp.write_text(body, encoding="utf-8")
    return out


def _link(path: Path, base: Path, text: str) -> str:
    if not path.is_file():
        return ""
    return f'<a href="{html.escape(path.relative_to(base).as_posix())}">{html.escape(text)}</a>'


def index_page(title: str, rows: list[StageRow], summary: list[str], base: Path) -> str:
    """The index's HTML: ``summary`` lines, then a table of the stages with links to their pages."""
    cells = []
    for row in rows:
        seconds = "not run" if row.seconds is None else f"{row.seconds:,.0f} s"
        links = " · ".join(link for link in (_link(row.notebook.with_suffix(".html"), base, "report"),
                                             _link(row.notebook, base, "notebook")) if link)
        cells.append(f"<tr><td>{html.escape(row.name)}</td><td class=n>{seconds}</td><td>{links}</td></tr>")
    total = sum(r.seconds or 0.0 for r in rows)
    lines = "".join(f"<li>{html.escape(line)}</li>" for line in summary)
    return (f"<!doctype html><html><head><meta charset=utf-8><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1><ul>{lines}</ul>"
            "<table><tr><th>stage</th><th>seconds</th><th>pages</th></tr>" + "".join(cells)
            + f"<tr><th>all stages</th><th class=n>{total:,.0f} s</th><th></th></tr></table></body></html>\n")


def write_index(output_dir: Path, title: str, rows: list[StageRow], summary: list[str]) -> Path:
    """Write ``{output_dir}/index.html`` atomically; returns its path."""
    path = output_dir / INDEX_FILE
    with atomic_path(path) as tmp:
        tmp.write_text(index_page(title, rows, summary, output_dir), encoding="utf-8")
    return path
