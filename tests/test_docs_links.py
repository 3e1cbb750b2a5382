"""Every relative link in README.md, CONTRIBUTING.md and docs/ resolves to a file of the
repository, and no document sends the reader to a file the project does not have."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = sorted(
    [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *(ROOT / "docs").glob("**/*.md")],
)
_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)


def relative_links(text: str) -> list[str]:
    """Link targets that are neither URLs nor in-page anchors (code blocks skipped)."""
    text = _FENCE.sub("", text)
    out = []
    for target in _LINK.findall(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith("#"):
            continue
        out.append(target.split("#", 1)[0])
    return out


@pytest.mark.parametrize("doc", DOCS, ids=[str(d.relative_to(ROOT)) for d in DOCS])
def test_every_relative_link_resolves(doc: Path) -> None:
    assert doc.is_file()
    broken = [
        t for t in relative_links(doc.read_text(encoding="utf-8")) if not (doc.parent / t).exists()
    ]
    assert broken == [], f"{doc.relative_to(ROOT)}: links to missing files: {broken}"


@pytest.mark.parametrize("doc", DOCS, ids=[str(d.relative_to(ROOT)) for d in DOCS])
def test_no_document_points_to_a_file_outside_the_project(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    assert "design.md" not in text and "/work/" not in text


def test_the_link_check_finds_a_broken_link() -> None:
    text = "see [a](docs/nope.md), [b](https://example.com), [c](#x)\n```\n[d](gone.md)\n```\n"
    assert relative_links(text) == ["docs/nope.md"]
    assert not (ROOT / "docs" / "nope.md").exists()


def test_the_project_documents_exist() -> None:
    for name in ("report-json.md", "fixture.md", "architecture.md"):
        assert (ROOT / "docs" / name).is_file(), name
    assert (ROOT / "CONTRIBUTING.md").is_file()
