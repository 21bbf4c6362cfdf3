"""Turn a fetched web page or PDF transcript into the committee's own text.

Every rule here is general (web chrome, PDF page numbers, teasers of other documents, address
footers), never tied to one file: a citizen must never be shown a navigation menu or another
municipality's teaser as if it were this committee's words.
"""

from __future__ import annotations

import re
import unicodedata

# Lines that are site or viewer chrome, not content. Matched against a whole stripped line.
CHROME = [
    r"skip til (hoved)?indhold(et)?",
    r"spring til (hoved)?indhold(et)?",
    r"gå til (hoved)?indhold(et)?",
    r"logo( inkluderet)?( med hjem link)?",
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
_PAGE_START = re.compile(r"^(\d{1,3}) (?=\S)")
_BULLET = re.compile(r"^[•·▪●◦*]\s+")
_SENTENCE_END = re.compile(r"[.!?:;\"”»)]$")


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
        line = re.sub(r" {2,}", " ", line.strip())
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


def join_pdf_pages(paras: list[str]) -> list[str]:
    """Strip running page numbers ('2 4. Flere borgere…') and re-join sentences split by a page.

    A paragraph counts as a page only when the leading numbers run 1, 2, 3… so that a paragraph
    which merely starts with an amount ('300 flere borgere') is left alone.
    """
    numbered = [(i, int(m.group(1))) for i, p in enumerate(paras) if (m := _PAGE_START.match(p))]
    pages: set[int] = set()
    expected = 1
    for i, n in numbered:
        if n == expected:
            pages.add(i)
            expected += 1
    if len(pages) < 3:
        return paras
    out: list[str] = []
    for i, p in enumerate(paras):
        if i not in pages:
            out.append(p)
            continue
        body = _PAGE_START.sub("", p, count=1)
        prev = out[-1] if out else ""
        if i - 1 in pages and not _SENTENCE_END.search(prev):
            out[-1] = f"{prev} {body}"
        else:
            out.append(body)
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


def clean(text: str, title: str = "") -> str:
    """The cleaned document: paragraphs separated by a blank line."""
    paras = paragraphs(text)
    paras = drop_teasers(paras)
    if title:
        paras = drop_leading_navigation(paras, title)
    paras = [p for p in paras if not _CHROME.match(p)]
    paras = [p for i, p in enumerate(paras) if not (i < 5 and _BREADCRUMB.match(p))]
    paras = drop_address_footer(paras)
    paras = join_pdf_pages(paras)
    paras = dedupe(paras)
    return "\n\n".join(paras)
