"""Text for the page: excerpts with the answer marked, and citations, all safely escaped.

Documents and questions are untrusted text: HTML is never rendered and Markdown characters are
escaped, so a '<script>' or a stray '**' shows as typed instead of changing the page.
"""

from __future__ import annotations

import html
import re

from retrieval.types import Answer, Hit

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~:$])")


def escape(text: str) -> str:
    """Escape for st.markdown: HTML entities first, then every Markdown control character."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))


def marked_excerpt(hit: Hit) -> str:
    """The excerpt as Markdown with the answering sentence(s) in bold on a highlight."""
    text = hit.passage.text
    lines = []
    for line in text.split("\n"):
        if hit.highlight and hit.highlight in line:
            before, _, after = line.partition(hit.highlight)
            lines.append(
                f"{escape(before)}:orange-background[**{escape(hit.highlight)}**]{escape(after)}"
            )
        else:
            lines.append(escape(line))
    marked = "  \n".join(lines)
    if hit.highlight and hit.highlight not in text:
        marked = f"**{escape(hit.highlight)}**  \n{marked}"
    return marked


def citation(hit: Hit) -> str:
    p = hit.passage
    parts = [f"{p.municipality} Kommune", p.committee, f"»{p.title}«", p.when, p.source]
    return " · ".join(escape(x) for x in parts if x)


def plain_citation(hit: Hit) -> str:
    """For the hotline's copy button: the answer and where it is from, as plain text."""
    p = hit.passage
    where = ", ".join(x for x in (f"{p.municipality} Kommune", p.committee, p.title, p.when) if x)
    return f"»{hit.highlight or p.text}« (Kilde: {where}. {p.source})"


def answer_text(answer: Answer) -> str:
    """A plain-text transcript of an answer, as the CLI and the copy button show it."""
    lines = [answer.message]
    for hit in answer.hits[:1] if answer.answered else []:
        lines.append(plain_citation(hit))
    return "\n".join(lines)
