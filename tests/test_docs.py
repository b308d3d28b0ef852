"""The docs hold together: every relative link of README.md and docs/*.md reaches a file (and, for
`#anchor`, a heading of it), and the README stays a front page."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parent.parent
README_MAX_LINES = 250

LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1", re.DOTALL)
HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
EXTERNAL = ("http:", "https:", "mailto:")


def doc_files(root: Path = ROOT) -> list[Path]:
    """README.md and every markdown page under docs/."""
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


def prose(text: str) -> str:
    """The text without fenced code blocks and inline code, where a `[x](y)` is not a link."""
    return INLINE_CODE.sub("", FENCE.sub("", text))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lowercase, punctuation dropped except - and _, spaces to -."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "").lower()
    kept = "".join(ch for ch in text if ch.isalnum() or ch in "-_ ")
    return kept.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every heading anchor of a markdown file; a repeated heading gets -1, -2, … as on GitHub."""
    seen: dict[str, int] = {}
    found = set()
    for heading in HEADING.findall(FENCE.sub("", path.read_text(encoding="utf-8"))):
        base = slug(heading)
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def links(path: Path) -> list[str]:
    """The target of every markdown link and image of a file, outside code."""
    return LINK.findall(prose(path.read_text(encoding="utf-8")))


def broken_links(files: list[Path], root: Path = ROOT, *, same_page: bool = False) -> list[str]:
    """`FILE: target (why)` for every relative link that reaches no file or no heading.

    Links to the web and mail are not followed; links within the page (`#anchor`) only with
    `same_page`."""
    problems = []
    for source in files:
        for target in links(source):
            if target.startswith(EXTERNAL) or (target.startswith("#") and not same_page):
                continue
            path_part, _, anchor = unquote(target).partition("#")
            resolved = (source.parent / path_part).resolve() if path_part else source
            where = f"{source.relative_to(root)}: {target}"
            if not resolved.exists():
                problems.append(f"{where} (no such file)")
            elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
                problems.append(f"{where} (no such heading)")
    return problems


def test_every_relative_link_in_the_docs_resolves():
    assert broken_links(doc_files()) == []


def test_every_anchor_within_a_page_points_at_one_of_its_headings():
    assert broken_links(doc_files(), same_page=True) == []


def test_the_readme_is_a_front_page_of_at_most_250_lines():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES


def test_the_readme_links_to_every_docs_page():
    linked = {target.partition("#")[0] for target in links(ROOT / "README.md")}
    pages = {f"docs/{page.name}" for page in (ROOT / "docs").glob("*.md") if page.name != "README.md"}
    assert pages - linked == set()


def test_a_heading_slug_follows_githubs_rules():
    assert slug("Try the rules on past leads: `leadrouter simulate`") == (
        "try-the-rules-on-past-leads-leadrouter-simulate"
    )
    assert slug("What-if over 100,000 stored decisions") == "what-if-over-100000-stored-decisions"
    assert slug("Передачи и SLA") == "передачи-и-sla"
    assert slug("snake_case (kept)") == "snake_case-kept"


def test_the_link_check_reports_a_missing_file_and_a_missing_heading(tmp_path):
    # Guard against a vacuous check: planted broken links must be reported, good ones must not.
    (tmp_path / "docs").mkdir()
    page = "# Page\n\n## Этапы и сроки\n\n[up](#nowhere-here) [top](#page)\n"
    (tmp_path / "docs" / "page.md").write_text(page, encoding="utf-8")
    (tmp_path / "README.md").write_text(
        "[ok](docs/page.md#этапы-и-сроки) [self](#readme) [web](https://example.com/x)\n"
        "# README\n"
        "[gone](docs/missing.md) [bad anchor](docs/page.md#nowhere) `[code](docs/missing.md)`\n"
        "```\n[fenced](docs/missing.md)\n```\n",
        encoding="utf-8",
    )
    expected = [
        "README.md: docs/missing.md (no such file)",
        "README.md: docs/page.md#nowhere (no such heading)",
    ]
    assert broken_links(doc_files(tmp_path), tmp_path) == expected
    assert broken_links(doc_files(tmp_path), tmp_path, same_page=True) == [
        *expected,
        "docs/page.md: #nowhere-here (no such heading)",
    ]
