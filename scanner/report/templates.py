"""The jinja2 templates of the HTML and Markdown reports (``report_templates/``, or a
``--templates-dir``): loading, and rendering with every template error turned into a
ConfigError that names the template and line.

Escaping: HTML has autoescape on; Markdown runs every ``{{ value }}`` through
``md_escape.md_finalize`` (unless it is an ``MdSafe`` string made on purpose).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import jinja2
from markupsafe import Markup, escape

from ..errors import ConfigError
from ..i18n import DEFAULT_LANG, translations
from ..resources import templates_dir as default_templates_dir
from .md_escape import MdSafe, md_code, md_escape, md_finalize

TEMPLATES_HINT = "give --templates-dir a folder holding report.html.j2 and report.md.j2"


def _templates_path(templates_dir: Path | None) -> Path:
    if templates_dir is None:
        try:
            return default_templates_dir()
        except FileNotFoundError:
            raise ConfigError(
                "the report templates folder (report_templates/) is missing from this install",
                hint="reinstall rdscan, or give --templates-dir DIR",
            ) from None
    path = Path(templates_dir)
    if not path.is_dir():
        raise ConfigError(f"templates folder {path} does not exist", hint=TEMPLATES_HINT)
    return path


def html_path(value: object) -> Markup:
    """A folder path, escaped, that may wrap after each ``/`` (``<wbr>``: no text added)."""
    return Markup("/<wbr>").join(escape(part) for part in str(value).split("/"))


def num(value: object) -> str:
    """An integer with thousands separators (``1,234``); anything else as it is."""
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


class _MdMessage(str):
    """A translated Markdown message: ``%`` escapes each value (``md_escape``) and the result
    is Markdown made on purpose (``MdSafe``), so the message's own markup survives."""

    def __mod__(self, values: object) -> MdSafe:
        if isinstance(values, dict):
            values = {k: v if isinstance(v, MdSafe) else md_escape(v) for k, v in values.items()}
        return MdSafe(str.__mod__(self, values))


@lru_cache(maxsize=16)
def _env(templates_dir: Path, kind: str, lang: str = DEFAULT_LANG) -> jinja2.Environment:
    loader = jinja2.FileSystemLoader(str(templates_dir))
    if kind == "html":
        env = jinja2.Environment(
            loader=loader,
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            extensions=["jinja2.ext.i18n"],
        )
        env.filters["path"] = html_path
    else:
        env = jinja2.Environment(
            loader=loader,
            autoescape=False,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            finalize=md_finalize,
            extensions=["jinja2.ext.i18n"],
        )
        env.filters["code"] = md_code
    env.filters["num"] = num
    env.policies["ext.i18n.trimmed"] = True
    catalog = translations(lang)
    if kind == "html":
        env.install_gettext_translations(catalog, newstyle=True)  # type: ignore[attr-defined]
    else:
        env.install_gettext_callables(  # type: ignore[attr-defined]
            lambda s: _MdMessage(catalog.gettext(s)),
            lambda s, p, n: _MdMessage(catalog.ngettext(s, p, n)),
            newstyle=True,
        )
    return env


def template(
    templates_dir: Path | None, kind: str, name: str, lang: str = DEFAULT_LANG
) -> jinja2.Template:
    """Template ``name`` of ``kind`` (``html``: autoescaped; ``md``: Markdown-escaped)."""
    env = _env(_templates_path(templates_dir), kind, lang)
    try:
        return env.get_template(name)
    except jinja2.TemplateNotFound:
        raise ConfigError(
            f"report template {name} not found in {env.loader.searchpath[0]}",  # type: ignore[union-attr]
            hint=TEMPLATES_HINT,
        ) from None
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigError(
            f"report template {exc.filename or name} line {exc.lineno}: {exc.message}",
            hint="fix the template, or drop --templates-dir to use the bundled ones",
        ) from None


def render(tpl: jinja2.Template, **context: object) -> str:
    """Render; an error inside a template (a --templates-dir one) is a ConfigError naming the
    template and line, never a traceback."""
    try:
        return tpl.render(**context)
    except jinja2.TemplateError as exc:
        raise _template_error(tpl, exc) from None


STREAM_PIECE = 1 << 16  # characters: jinja2's small pieces joined up to about this much


def stream(tpl: jinja2.Template, **context: object) -> Iterator[str]:
    """``render``'s text in pieces of about ``STREAM_PIECE`` characters, made as they are
    consumed (the whole text is never held); the same errors, raised while iterating."""
    try:
        pending: list[str] = []
        size = 0
        for piece in tpl.generate(**context):
            pending.append(piece)
            size += len(piece)
            if size >= STREAM_PIECE:
                yield "".join(pending)
                pending, size = [], 0
        if pending:
            yield "".join(pending)
    except jinja2.TemplateError as exc:
        raise _template_error(tpl, exc) from None


def _template_error(tpl: jinja2.Template, exc: jinja2.TemplateError) -> ConfigError:
    name = tpl.filename or tpl.name or "template"
    line = _template_line(exc, name)
    where = f"{name} line {line}" if line else name
    return ConfigError(
        f"report template {where}: {exc.message or type(exc).__name__}",
        hint="fix the template, or drop --templates-dir to use the bundled ones",
    )


def _template_line(exc: BaseException, filename: str) -> int | None:
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
