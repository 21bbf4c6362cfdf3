"""Turn a fetched web page or PDF transcript into the committee's own text.

Every rule here is general (web chrome, cookie banners, PDF viewer and transcript chrome, page
numbers, tables of contents, teasers of other documents, address footers, the cut-off end of an
excerpt), never tied to one file: a citizen must never be shown a navigation menu or another
municipality's teaser as if it were this committee's words.
"""

from __future__ import annotations

import re
import unicodedata

# Lines that are site or viewer chrome, not content. Matched against a whole stripped line.
CHROME = [
    r"(skip|spring|gå) til (hoved ?)?indhold(et)?",
    r"(you are here|du er her)",
    r"slå adgang med tegn til/fra",
    r"(\S+ ){0,5}logo( inkluderet)?( med hjem link)?",
    r"(til )?indhold(sfortegnelse)?",
    r"udskriv",
    r"kopier link( til (punktet|siden))?( *- *print)?",
    r"følg os på (facebook|instagram|linkedin|twitter|x)",
    r"page \d{1,4}",
    r"\d{1,3}",
    r"søg",
    r"menu",
    r"genveje",
    r"få siden oplæst",
    r"lyt til siden",
    r"del (siden|denne side)",
    r"print( siden)?",
    r"scroll til toppen",
    r"til toppen",
    r"skriv en kommentar",
    r"din e-?mailadresse vil ikke blive publiceret\..*",
    r"krævede felter er markeret med \*",
    r"læs nyheder fra kommunerne",
    r"se den originale nyhed fra .*",
    r"ansvar for denne side",
    r"opdateret:? \d.*",
    r"sidst opdateret:? .*",
    r"save this pdf as:?",
    r"(word|png|txt|jpg|pdf)( +(word|png|txt|jpg|pdf))*",
    r"størrelse: ?px",
    r"starte visningen fra side:?",
    r"download \".*\"",
    r"transkript(ion)?",
    r"cookie.*",
    r"se vores \W?cookie.*",
    r"læs (hele|mere om) .{1,80} her\.?",
    r"[\w.-]+\.(pdf|docx?|xlsx?|pptx?)",
    r"[\[\]{}\":,\w]*[\[{][\[\]{}\":,\w]*",
    r"klik her.*",
    r"(her kan )?du (kan )?hente hele .*",
    r"cvr:? ?\d{8}",
    r"ean:? ?\d{13}",
]
_CHROME = re.compile(r"^(?:" + "|".join(CHROME) + r")$", re.IGNORECASE)
# A teaser of another document ends with one of these link texts.
_TEASER_END = re.compile(r"^(læs mere|læs hele (artiklen|dokumentet)|read more)$", re.IGNORECASE)
# A breadcrumb trail: "Hjem Demokrati Socialudvalgets arbejdsgrundlag" or "Forside > Politik".
_BREADCRUMB = re.compile(r"^(hjem|forside)(\s*[›>/|»]\s*|\s+)\S.*$", re.IGNORECASE)
_POSTCODE = re.compile(r"^\d{4} [A-ZÆØÅ][\wæøåÆØÅ. -]+$")
_STREET = re.compile(r"^[A-ZÆØÅ][\wæøåÆØÅ.' -]+ \d+[A-Za-z]?(,? ?\d*\.? ?(sal|th|tv)?\.?)?$")
# A page number opens a transcript page: "2 Forord …", never "1 : Godkendelse" (an item number).
_PAGE_START = re.compile(r"^(\d{1,3})(?: (?=[^\s:.)])|$)")
_BULLET = re.compile(r"^[•·▪●◦*]\s+")
_SENTENCE_END = re.compile(r"[.!?:;\"”»)]$")
# A cookie banner is one paragraph that mentions cookies and asks for consent.
_COOKIE_BANNER = re.compile(
    r"\bcookies?\b.*\b(accepter\w*|samtykke\w*|nej tak|accept\w*|consent)\b", re.IGNORECASE
)
# A PDF viewer's transcript (docplayer and the like) announces itself with one of these lines.
_VIEWER = re.compile(r"^(transkript(ion)?|save this pdf as:?|starte visningen fra side:?)$", re.I)
_SIDE_MARK = re.compile(r"^side \d{1,3} (?=\S)", re.IGNORECASE)
# A table of contents run inside a transcript page: from the heading to the dot leader and page
# number that close it ("Indholdsfortegnelse 1. Godkendelse … Eventuelt...14 Side 1").
_TOC_LEADER = re.compile(
    r"\s*\bindholdsfortegnelse\b.*?\.{3,}\s*\d{1,3}(\s+side \d{1,3}\b)?", re.IGNORECASE
)
# Or three "heading page section." entries in a row ("Forord 2 1. Visionen 4 2. Værdierne 5 3."):
# the contents then run to the end of their page.
_TOC_ENTRIES = re.compile(r"\s*(?:\S+ \d{1,3} \d{1,2}\. ){3,}.*$")
# Two headings glued together when a link or tab between them was dropped ("BilagBeslutning").
_GLUED = re.compile(r"^([A-ZÆØÅ][a-zæøå]+)([A-ZÆØÅ0-9]\S*(?: \S+){0,4})$")
# Where a complete sentence ends: . ! ? or … , perhaps followed by a closing quote or bracket.
_FULL_STOP = re.compile(r"[.!?…][\"”»)]*(?=\s|$)")
# A final "." after one of these is not the end of a sentence but where the excerpt was cut.
_NOT_AN_END = re.compile(
    r"(^|\s)(\d{1,4}|[a-zæøå]|ca|jf|bl\.a|f\.eks|mht|iht|vedr|inkl|evt|pkt|nr|stk)\.$",
    re.IGNORECASE,
)
# Bullet glyphs of a symbol font that came through as letters ("ƒ", private-use ""), alone.
_GLYPH = re.compile(r"(?<!\S)[ƒ\uf0a7\uf0b7\uf0d8\uf0fc](?!\S)")
_EXCERPT = re.compile(r"\b(uddrag|excerpt)\b", re.IGNORECASE)


def normalise(text: str) -> str:
    """NFC, one kind of space and newline, no control characters."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u00a0", " ").replace("\u200b", "").replace("\t", " ")
    text = "".join(ch for ch in text if ch == "\n" or unicodedata.category(ch)[0] != "C")
    return text


def paragraphs(text: str) -> list[str]:
    """Lines are the unit in web extracts; a bullet keeps its marker so lists stay lists."""
    out = []
    for line in normalise(text).split("\n"):
        line = re.sub(r" {2,}", " ", _GLYPH.sub("", line).strip())
        if not line:
            continue
        if _BULLET.match(line):
            line = "• " + _BULLET.sub("", line)
        out.append(line)
    return out


def drop_teasers(paras: list[str]) -> list[str]:
    """Remove 'title / title + snippet / Læs mere' blocks that advertise other documents."""
    out: list[str] = []
    for p in paras:
        if _TEASER_END.match(p):
            if out:
                snippet = out.pop()
                if out and snippet.startswith(out[-1]) and len(out[-1]) < len(snippet):
                    out.pop()
            continue
        out.append(p)
    return out


def drop_leading_navigation(paras: list[str], title: str, window: int = 12) -> list[str]:
    """Menus come before the page's own title; cut them when the title appears near the top."""
    wanted = title.casefold().strip()
    for i, p in enumerate(paras[:window]):
        if p.casefold() == wanted:
            return paras[i:]
    return paras


def drop_address_footer(paras: list[str]) -> list[str]:
    """Drop 'X Kommune / street / postcode town' blocks: a site footer, not committee text."""
    out = list(paras)
    i = 0
    while i < len(out):
        if _POSTCODE.match(out[i]) and i >= 1 and _STREET.match(out[i - 1]):
            start = i - 1
            if start >= 1 and re.fullmatch(r"[\wæøåÆØÅ-]+ Kommune", out[start - 1]):
                start -= 1
            del out[start : i + 1]
            i = start
            continue
        i += 1
    return out


def join_pdf_pages(paras: list[str], min_pages: int = 3) -> list[str]:
    """Strip running page numbers ('2 4. Flere borgere…') and re-join sentences split by a page.

    A paragraph counts as a page only when the leading numbers run 1, 2, 3… so that a paragraph
    which merely starts with an amount ('300 flere borgere') is left alone. A viewer transcript
    ('Transkript') is known to be paged, so there even a one- or two-page excerpt counts.
    """
    numbered = [(i, int(m.group(1))) for i, p in enumerate(paras) if (m := _PAGE_START.match(p))]
    pages: set[int] = set()
    expected = 1
    for i, n in numbered:
        if n == expected:
            pages.add(i)
            expected += 1
    if len(pages) < min_pages:
        return paras
    out: list[str] = []
    for i, p in enumerate(paras):
        if i not in pages:
            out.append(p)
            continue
        body = _PAGE_START.sub("", p, count=1)
        if not body:
            continue  # a page with nothing left but its number
        prev = out[-1] if out else ""
        if i - 1 in pages and not _SENTENCE_END.search(prev):
            out[-1] = f"{prev} {body}"
        else:
            out.append(body)
    return out


def is_excerpt(source: str) -> bool:
    """A manifest's source line says '(uddrag)' when the file is a cut from a longer page."""
    return bool(_EXCERPT.search(source))


def is_cookie_banner(para: str) -> bool:
    """A consent banner, not content; only a paragraph of banner length is taken for one."""
    return len(para.split()) <= 80 and bool(_COOKIE_BANNER.search(para))


def split_glued_headings(paras: list[str]) -> list[str]:
    """'BilagBeslutning' → 'Bilag', 'Beslutning' when the first part is a heading of its own.

    It counts as a heading when the same word stands alone on another line of the document or is
    chrome ('Indholdsfortegnelse1. Fraværende'); brand names such as 'FrivilligVest' are left alone.
    """
    alone = {p.casefold() for p in paras}
    out: list[str] = []
    for p in paras:
        m = _GLUED.match(p)
        if m and (m.group(1).casefold() in alone or _CHROME.match(m.group(1))):
            out.extend([m.group(1), m.group(2)])
        else:
            out.append(p)
    return out


def drop_transcript_toc(paras: list[str]) -> list[str]:
    """Cut a table-of-contents run out of a transcript page, keeping the page's own number.

    A page left empty stays as its bare number, so the page run 1, 2, 3… is still seen and the
    number is removed with the others by `join_pdf_pages`.
    """
    out = []
    for p in paras:
        m = _PAGE_START.match(p)
        number, body = (m.group(1), p[m.end() :]) if m else ("", p)
        body = _SIDE_MARK.sub("", _TOC_ENTRIES.sub("", _TOC_LEADER.sub("", body)).strip())
        out.append(f"{number} {body}".strip())
    return [p for p in out if p]


def _is_complete(para: str) -> bool:
    """Whether a paragraph ends at the end of a sentence, not at a cut."""
    if not _FULL_STOP.search(para[-3:] if len(para) >= 3 else para):
        return False
    return not _NOT_AN_END.search(para)


def _is_bare_heading(para: str) -> bool:
    """'Sagsfremstilling', 'Sagsnr: 25-018298', 'Ad 2: Lægedækningen:' — a title for what follows.

    Short and without a full stop; a list item ('• at kommentere …') is content, not a heading.
    """
    return (
        len(para.split()) <= 10
        and not para.startswith("• ")
        and not re.search(r"[.!?\"”»)]$", para)
    )


def trim_cut_off_end(paras: list[str]) -> list[str]:
    """An excerpt ends mid-sentence ('… arbejdet tæ'): keep only its last complete sentence.

    A citation must be a sentence the municipality wrote in full, so the unfinished fragment goes,
    and so does a heading left with nothing under it. A last paragraph with no complete sentence
    (a cut bullet or table heading) goes whole.
    """
    out = list(paras)
    if not out or _is_complete(out[-1]):
        return out
    last = out.pop()
    ends = [m.end() for m in _FULL_STOP.finditer(last) if not _NOT_AN_END.search(last[: m.end()])]
    if ends:
        out.append(last[: ends[-1]].strip())
        return out
    while len(out) > 1 and _is_bare_heading(out[-1]):
        out.pop()  # a heading or lead-in whose text was cut away
    return out


def dedupe(paras: list[str]) -> list[str]:
    """A title or footer line repeated back to back carries nothing the second time.

    Only neighbours: a line such as 'Derfor vil vi:' legitimately recurs under each heading.
    """
    out: list[str] = []
    for p in paras:
        if out and out[-1].casefold() == p.casefold():
            continue
        if out and len(out[-1].split()) <= 12 and p.casefold().startswith(out[-1].casefold() + " "):
            out[-1] = p  # a heading the next paragraph repeats as its run-in start
            continue
        out.append(p)
    return out


def clean(text: str, title: str = "", excerpt: bool = False) -> str:
    """The cleaned document: paragraphs separated by a blank line.

    `excerpt` (the manifest's source says '(uddrag)') means the text was cut from a longer page,
    so an unfinished last sentence is a cut, not the municipality's words, and is dropped.
    """
    paras = paragraphs(text)
    viewer = any(_VIEWER.match(p) for p in paras)
    paras = drop_teasers(paras)
    if title:
        paras = drop_leading_navigation(paras, title)
    paras = split_glued_headings(paras)
    paras = [p for p in paras if not _CHROME.match(p) and not is_cookie_banner(p)]
    paras = [p for i, p in enumerate(paras) if not (i < 5 and _BREADCRUMB.match(p))]
    paras = drop_address_footer(paras)
    if viewer:  # before pages are joined, so a contents run ends with its own page
        paras = drop_transcript_toc(paras)
    paras = join_pdf_pages(paras, min_pages=1 if viewer else 3)
    paras = dedupe(paras)
    if excerpt:
        paras = trim_cut_off_end(paras)
    return "\n\n".join(paras)
