"""report.md: GitHub-flavoured Markdown (a ticket, a pull request, a wiki page).

Escaping: every ``{{ value }}`` of the template goes through ``md_escape`` (the environment's
``finalize``) unless it is an ``MdSafe`` string made on purpose.
"""

from __future__ import annotations

from ..policy.model import SOON_DAYS
from .format import ReportFormat, ReportInput
from .html_format import MAX_FOLDER_BARS
from .since_view import build_since
from .templates import render, template


def render_markdown(data: ReportInput) -> str:
    """The Markdown report; every value from the API is escaped."""
    return render(
        template(data.templates_dir, "md", "report.md.j2", data.lang),
        v=data.view,
        soon_days=SOON_DAYS,
        max_folders=MAX_FOLDER_BARS,
        since=build_since(data.scan),
    )


FORMAT = ReportFormat(
    name="md",
    aliases=("markdown",),
    file_name="report.md",
    help="Markdown for tickets and pull requests",
    render=render_markdown,
)
