"""report.md: GitHub-flavoured Markdown (a ticket, a pull request, a wiki page).

Escaping: every ``{{ value }}`` of the template goes through ``md_escape`` (the environment's
``finalize``) unless it is an ``MdSafe`` string made on purpose.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..policy.model import SOON_DAYS
from .format import ReportFormat, ReportInput
from .html_format import MAX_FOLDER_BARS
from .since_view import build_since
from .templates import stream, template


def render_markdown(data: ReportInput) -> str:
    """The Markdown report; every value from the API is escaped."""
    return "".join(stream_markdown(data))


def stream_markdown(data: ReportInput) -> Iterator[str]:
    """``render_markdown``'s text in pieces, made as they are written."""
    return stream(
        template(data.templates_dir, "md", "report.md.j2", data.lang),
        v=data.view,
        reason=data.reason,
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
    stream=stream_markdown,
)
