"""The merged report of a multi-directory run (``rdscan scan --targets``): targets.json (the
record), targets.csv, targets.md and targets.html in the output folder. Each account row carries
its ``directory_id`` and ``target``; the evidence lists each directory's caller, coverage and
summary, and each target that could not be scanned with the reason.

Escaping as in the single-directory reports: HTML autoescaped with a CSP allowing only its own
inline style (no script), Markdown values through ``md_escape``, CSV cells formula-safe.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from markupsafe import Markup

from ..changes import compliance_share
from ..errors import ConfigError
from ..findings import ReasonPart, Result, Status, summarize
from ..i18n import DEFAULT_LANG, translations
from ..phones import mask_scan
from ..reasons import localize, localize_warnings
from .csv_format import csv_safe
from .results_file import write_atomic
from .templates import render, template

MERGED_SCHEMA = "rdscan.targets/1"
MERGED_FILES = {
    "json": "targets.json",
    "csv": "targets.csv",
    "md": "targets.md",
    "html": "targets.html",
}
_CSV_COLUMNS = (
    "target",
    "directory_id",
    "account_id",
    "display_name",
    "type",
    "folder_path",
    "result",
    "severity",
    "reason",
    "remediation",
    "days_failing",
)


def merged_dict(outcomes: Sequence[Any], *, exit_code: int, generated_at: str) -> dict[str, Any]:
    """``outcomes``: ``scanner.multi.TargetOutcome`` values, in the targets file's order."""
    targets: list[dict[str, Any]] = []
    accounts: list[dict[str, Any]] = []
    all_results: list[Result] = []
    for o in outcomes:
        entry: dict[str, Any] = {"name": o.target.name, "site": o.target.settings.site}
        if o.scan is None:
            entry.update(ok=False, error=o.error, hint=o.hint, directory_id=None)
            targets.append(entry)
            continue
        scan = mask_scan(o.scan)
        data = scan.to_dict()
        ev = data["scan"]
        entry.update(
            ok=True,
            error=None,
            hint=None,
            directory_id=ev["resource_directory"]["id"],
            scan_id=ev["id"],
            started_at=ev["started_at"],
            finished_at=ev["finished_at"],
            caller=ev["caller"],
            policy=ev["policy"],
            coverage=ev["coverage"],
            warnings=ev["warnings"],
            warning_parts=ev.get("warning_parts") or [],
            summary=data["summary"],
            compliance=compliance_share(data["summary"]),
            since_previous=data.get("since_previous"),
        )
        targets.append(entry)
        for row in data["accounts"]:
            accounts.append({"target": o.target.name, "directory_id": entry["directory_id"], **row})
        all_results.extend(scan.results)
    summary = summarize(all_results)
    return {
        "schema": MERGED_SCHEMA,
        "generated_at": generated_at,
        "exit_code": exit_code,
        "targets": targets,
        "summary": summary,
        "compliance": compliance_share(summary),
        "accounts": accounts,
    }


def render_json(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def render_csv(doc: dict[str, Any]) -> str:
    buf = io.StringIO()
    buf.write("\ufeff")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(_CSV_COLUMNS)
    for a in doc["accounts"]:
        writer.writerow([csv_safe(a.get(c) if a.get(c) is not None else "") for c in _CSV_COLUMNS])
    return buf.getvalue()


def _view(doc: dict[str, Any], lang: str = DEFAULT_LANG) -> dict[str, Any]:
    order = {s.value: i for i, s in enumerate((Status.FAIL, Status.ERROR))}
    problems = sorted(
        (a for a in doc["accounts"] if a["result"] in order),
        key=lambda a: (order[a["result"]], a["target"], a["folder_path"], a["account_id"]),
    )
    catalog = translations(lang)
    na = catalog.gettext("n/a")

    def reason(account: dict[str, Any]) -> str:
        """An account row's reason in ``lang`` (its English ``reason`` as data when the row has
        no ``reason_parts``)."""
        text = str(account.get("reason") or "")
        if lang == DEFAULT_LANG:
            return text
        parts = [ReasonPart.from_dict(p) for p in account.get("reason_parts") or ()]
        return localize(text, parts, catalog.gettext, catalog.ngettext)

    def warnings(target: dict[str, Any]) -> list[str]:
        """A target's warnings in ``lang``."""
        texts = [str(w) for w in target.get("warnings") or ()]
        if lang == DEFAULT_LANG:
            return texts
        parts = [
            tuple(ReasonPart.from_dict(p) for p in w or ())
            for w in target.get("warning_parts") or ()
        ]
        return localize_warnings(texts, parts, catalog.gettext, catalog.ngettext)

    share = doc["compliance"]
    return {
        "warnings": warnings,
        "doc": doc,
        "lang": lang,
        "reason": reason,
        "problems": problems,
        "compliance": na if share is None else f"{share * 100:.1f}%",
        "shares": {
            t["name"]: (na if t.get("compliance") is None else f"{t['compliance'] * 100:.1f}%")
            for t in doc["targets"]
        },
        "failed": [t for t in doc["targets"] if not t["ok"]],
    }


def _csp_hash(text: str) -> str:
    digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()
    return f"'sha256-{digest}'"


def render_markdown(
    doc: dict[str, Any], templates_dir: Path | None = None, lang: str = DEFAULT_LANG
) -> str:
    return render(template(templates_dir, "md", "targets.md.j2", lang), **_view(doc, lang))


def render_html(
    doc: dict[str, Any], templates_dir: Path | None = None, lang: str = DEFAULT_LANG
) -> str:
    css = render(template(templates_dir, "html", "_report.css"))
    csp = (
        f"default-src 'none'; style-src {_csp_hash(css)}; img-src 'none'; "
        "form-action 'none'; base-uri 'none'"
    )
    return render(
        template(templates_dir, "html", "targets.html.j2", lang),
        css=Markup(css),
        csp=csp,
        **_view(doc, lang),
    )


def write_merged(
    doc: dict[str, Any],
    output_dir: Path,
    templates_dir: Path | None = None,
    lang: str = DEFAULT_LANG,
) -> dict[str, Path]:
    """Render every merged file first, then write each atomically. ``lang``: the language of
    targets.md and targets.html (targets.json and targets.csv are data, in English)."""
    texts = {
        "json": render_json(doc),
        "csv": render_csv(doc),
        "md": render_markdown(doc, templates_dir, lang),
        "html": render_html(doc, templates_dir, lang),
    }
    written: dict[str, Path] = {}
    for name, text in texts.items():
        path = Path(output_dir) / MERGED_FILES[name]
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, text)
        except OSError as exc:
            raise ConfigError(
                f"cannot write {path}: {exc.strerror or exc}",
                hint="choose a writable folder with --output-dir",
            ) from None
        written[name] = path
    return written
