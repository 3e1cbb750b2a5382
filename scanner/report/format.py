"""What a report format is: a name, a file name, a line of help, and a renderer.

A renderer takes one :class:`ReportInput` and returns the file's text; it writes nothing
(``scanner.report.writer`` writes every file, atomically, after all are rendered). The
formats themselves are listed once, in ``scanner.report.registry``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from ..findings import RemediationOutcome, RemediationSource, Result, ScanResult
from ..i18n import DEFAULT_LANG, translations
from ..phones import mask_outcome, mask_scan
from ..reasons import localize
from .view import ReportView, build_view, report_rows


@dataclass(frozen=True)
class ReportInput:
    """Everything a renderer may show, masked once when made.

    ``scan``: the scan, every phone number masked and free text scrubbed. ``source_sha256``:
    the SHA-256 (hex) of the report.json bytes the reports are made from (shown in the
    footers). ``remediations``: outcomes from a remediation journal (may be empty);
    ``journal``: which journal they came from (file name, head, lines left out), if any.
    ``templates_dir``: a folder of templates to use instead of the bundled ones (None: the
    bundled ones). ``view``: the display values, built once on first use.
    """

    scan: ScanResult
    source_sha256: str
    remediations: tuple[RemediationOutcome, ...] = ()
    templates_dir: Path | None = None
    journal: RemediationSource | None = None
    lang: str = DEFAULT_LANG  # en | zh-CN: the language of the human-readable formats

    @property
    def _(self) -> Callable[[str], str]:
        """gettext for this input's language (for text a renderer builds in Python)."""
        return translations(self.lang).gettext

    def reason(self, r: Result) -> str:
        """``r``'s reason in this input's language: its ``reason_parts`` through the catalog;
        report.json's English ``reason`` as it is in English, and when the result carries no
        parts (a report.json written before them) or one this rdscan does not know."""
        if self.lang == DEFAULT_LANG:
            return r.reason
        catalog = translations(self.lang)
        return localize(r.reason, r.reason_parts, catalog.gettext, catalog.ngettext)

    @classmethod
    def of(
        cls,
        scan: ScanResult,
        source_sha256: str,
        remediations: Sequence[RemediationOutcome] = (),
        templates_dir: Path | None = None,
        journal: RemediationSource | None = None,
        lang: str = DEFAULT_LANG,
    ) -> ReportInput:
        """The input for ``scan``, masked here (whatever the scan or journal holds)."""
        return cls(
            scan=mask_scan(scan),
            source_sha256=source_sha256,
            remediations=tuple(mask_outcome(o) for o in remediations),
            templates_dir=templates_dir,
            journal=journal,
            lang=lang,
        )

    @cached_property
    def rows(self) -> tuple[Result, ...]:
        """The scan's results in report order (failing first), sorted once for every format."""
        return report_rows(self.scan)

    @cached_property
    def view(self) -> ReportView:
        return build_view(
            self.scan,
            self.source_sha256,
            self.remediations,
            self.rows,
            journal=self.journal,
            lang=self.lang,
        )


@dataclass(frozen=True)
class ReportFormat:
    """One report format.

    ``name``: what ``--format`` takes (``html``); ``aliases``: other names it accepts
    (``markdown``); ``file_name``: the file it is written to in the output folder;
    ``help``: a few words for ``--help``; ``render``: the renderer; ``record``: True for
    report.json alone, the record that is always written by a scan and that ``rdscan report``
    re-renders the others from (never re-written by it).
    """

    name: str
    file_name: str
    help: str
    render: Callable[[ReportInput], str]
    aliases: tuple[str, ...] = ()
    record: bool = False
    default: bool = True  # written when --format is not given (machine formats: asked for)
    # the same text in pieces, for a writer that streams it to its file (never held whole:
    # 10 MB and more at 50,000 members); None: ``render`` alone
    stream: Callable[[ReportInput], Iterator[str]] | None = None

    def chunks(self, data: ReportInput) -> Iterator[str]:
        """The file's text in pieces (``stream``, or ``render`` whole)."""
        if self.stream is not None:
            return self.stream(data)
        return iter((self.render(data),))
