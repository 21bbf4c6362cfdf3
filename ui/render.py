"""Text for the page: excerpts with the answer marked, and citations, all safely escaped.

Documents and questions are untrusted text: HTML is never rendered and Markdown characters are
escaped, so a '<script>' or a stray '**' shows as typed instead of changing the page.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from urllib.parse import quote

from retrieval.text.places import kommune
from retrieval.types import Answer, Hit, Passage

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~:$=])")  # '=' stops a setext heading


def escape(text: str) -> str:
    """Escape for st.markdown: HTML entities first, then every Markdown control character."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))


def marked_excerpt(hit: Hit) -> str:
    """The excerpt as Markdown with the answering sentence(s) in bold on a highlight.

    The highlight may run over a line break in the passage; each line's part is marked. Bold
    carries the meaning, the background colour only helps the eye.
    """
    text = hit.passage.text
    span = _find(text, hit.highlight)
    if span is None:
        body = "  \n".join(escape(line) for line in text.split("\n"))
        return f"**{escape(hit.highlight)}**  \n{body}" if hit.highlight else body
    lines, pos = [], 0
    for line in text.split("\n"):
        a, b = max(span[0] - pos, 0), min(span[1] - pos, len(line))
        if a < b:
            lines.append(escape(line[:a]) + _mark(line[a:b]) + escape(line[b:]))
        else:
            lines.append(escape(line))
        pos += len(line) + 1
    return "  \n".join(lines)


def _find(text: str, highlight: str) -> tuple[int, int] | None:
    """Where the highlight is in the text, whatever whitespace the passage has between words."""
    if not highlight.strip():
        return None
    pattern = r"\s+".join(re.escape(word) for word in highlight.split())
    found = re.search(pattern, text)
    return found.span() if found else None


def _mark(part: str) -> str:
    inner = part.strip()
    if not inner:
        return part
    lead, trail = part[: len(part) - len(part.lstrip())], part[len(part.rstrip()) :]
    return f"{lead}:orange-background[**{escape(inner)}**]{trail}"


def citation(hit: Hit) -> str:
    """Municipality · committee · »document« · period · source, escaped; the source is a link
    when the manifest gives an http(s) address."""
    p = hit.passage
    parts = [kommune(p.municipality), p.committee, f"»{p.title}«", p.when]
    shown = [escape(x) for x in parts if x]
    if p.source or p.url:
        shown.append(source_link(p))
    return " · ".join(shown)


def source_link(passage: Passage) -> str:
    """The source as Markdown: a link when the url is http(s), else escaped text."""
    label = escape(passage.source or passage.url)
    if not re.match(r"https?://", passage.url or ""):
        return label
    return f"[{label}]({quote(passage.url, safe=':/?#&=%@+,;~')})"


def document_view(hit: Hit, passages: Sequence[Passage], around: int = 3) -> str:
    """The document around the cited passage as Markdown, the passage marked in words.

    `passages` is the whole index (or any superset of the document); the document is re-joined
    from its passages in order, without the sentence each passage repeats from the one before,
    and shows `around` passages on each side of the cited one.
    """
    cited = hit.passage
    same = sorted(
        (p for p in passages if p.document_id == cited.document_id), key=lambda p: p.position
    )
    ids = [p.id for p in same]
    if cited.id not in ids:
        return marked_excerpt(hit)
    at = ids.index(cited.id)
    window = same[max(0, at - around) : at + around + 1]
    texts = [p.text for p in window]
    for i in range(1, len(window)):
        cut = _overlap(texts[i - 1], texts[i])
        if window[i].id == cited.id:
            texts[i - 1] = texts[i - 1][: len(texts[i - 1]) - cut].rstrip()
        else:
            texts[i] = texts[i][cut:].lstrip()
    blocks = []
    if window[0] is not same[0]:
        blocks.append("*… (tidligere afsnit er ikke vist)*")
    for passage, text in zip(window, texts, strict=True):
        if passage.id == cited.id:
            blocks += [
                "**▶ Det citerede uddrag:**",
                marked_excerpt(hit),
                "**◀ Slut på det citerede uddrag**",
            ]
        elif text:
            blocks.append("  \n".join(escape(line) for line in text.split("\n")))
    if window[-1] is not same[-1]:
        blocks.append("*… (resten af dokumentet er ikke vist)*")
    return "\n\n".join(blocks)


def _overlap(before: str, after: str) -> int:
    """Length of the text `after` repeats from the end of `before` (chunking's overlap)."""
    for size in range(min(len(before), len(after)), 19, -1):
        if before.endswith(after[:size]):
            return size
    return 0


def plain_citation(hit: Hit) -> str:
    """For the hotline's copy button: the answer and where it is from, as plain text."""
    p = hit.passage
    return f"»{hit.highlight or p.text}« (Kilde: {p.where}. {p.source})"


def answer_text(answer: Answer) -> str:
    """A plain-text transcript of an answer, as the CLI and the copy button show it."""
    lines = [answer.message]
    for hit in answer.hits[:1] if answer.answered else []:
        lines.append(plain_citation(hit))
    return "\n".join(lines)


def spoken_answer(message: str, answered: bool, hits: Sequence[Hit]) -> str:
    """What **Læs op** reads: the answering sentence and where it is from, in plain words.

    No web address (a read-out URL helps nobody); when the documents do not answer, the
    message that says so (with the municipality's contact) is what the citizen needs to hear.
    """
    if not answered or not hits:
        return message
    hit = hits[0]
    p = hit.passage
    sentence = (hit.highlight or p.text).strip()
    if not sentence.endswith((".", "!", "?")):
        sentence += "."  # a pause before the source
    return f"{sentence} Kilde: {p.where}."
