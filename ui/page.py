"""What every page needs so screen readers read it as Danish: `lang="da"` and Danish labels.

Streamlit serves every page as `<html lang="en">` (hard-coded in 1.67) and gives its thumbs
widget English screen-reader labels. A zero-height frame at the top of each page fixes both
in the parent document as soon as the page loads, and keeps them fixed as Streamlit redraws.
"""

from __future__ import annotations

import streamlit.components.v1 as components

from ui.scripts import script_json

LANGUAGE = "da"
# Streamlit's English accessible names (aria-label) -> the Danish a screen reader should say.
LABELS = {
    "Thumbs up": "Godt svar",
    "Thumbs down": "Dårligt svar",
    "Feedback rating": "Vurdering af svaret",
    "Sidebar": "Sidepanel",
    "Collapse sidebar": "Skjul sidepanelet",
    "Expand sidebar": "Vis sidepanelet",
    "App pages": "Sider",
    "Main menu": "Hovedmenu",
    "Running...": "Arbejder …",
    "Link to heading": "Link til overskriften",
    "Decrement": "Færre",
    "Increment": "Flere",
    "Send message": "Send spørgsmålet",
    "Chat message from user": "Dit spørgsmål",
    "Chat message from assistant": "Svar",
}
# Streamlit's English visible texts, where they are (the skip link; the chat page's name in the
# page list, which Streamlit takes from the file name app.py).
TEXTS = {
    "Skip to main content": "Gå til hovedindholdet",
    "app": "Spørg Socialudvalget",
}
TEXT_PLACES = 'a[href="#stMain"], [data-testid="stSidebarNavLink"] p'
# Streamlit titles every script frame "st.iframe"; the invisible ones are hidden from readers.
HELPER_FRAME = "Hjælpescript uden indhold"

_SCRIPT = """<script>
(() => {
  const doc = window.parent.document;
  const labels = %(labels)s, texts = %(texts)s;
  const selector = Object.keys(labels).map((l) => `[aria-label="${l}"]`).join(",");
  const fix = () => {
    if (doc.documentElement.lang !== %(lang)s) doc.documentElement.lang = %(lang)s;
    for (const el of doc.querySelectorAll(selector)) {
      el.setAttribute("aria-label", labels[el.getAttribute("aria-label")]);
    }
    for (const el of doc.querySelectorAll(%(text_places)s)) {
      const danish = texts[el.textContent.trim()];
      if (danish) el.textContent = danish;
    }
    for (const frame of doc.querySelectorAll('iframe[title="st.iframe"]')) {
      frame.title = %(helper)s;
      if (frame.getBoundingClientRect().height === 0) frame.setAttribute("aria-hidden", "true");
    }
  };
  fix();
  // One observer per page: a page switch replaces this frame, and with it the old observer.
  try { window.parent.__sporgA11y && window.parent.__sporgA11y.disconnect(); } catch (e) {}
  const observer = new MutationObserver(fix);
  observer.observe(doc.documentElement, {
    subtree: true, childList: true, characterData: true, attributes: true,
    attributeFilter: ["aria-label", "lang", "title"],
  });
  window.parent.__sporgA11y = observer;
})();
</script>"""


def danish_page() -> None:
    """Mark the page as Danish and relabel Streamlit's English controls in Danish.

    Call it right after `st.set_page_config`, before anything slow (loading the model), so the
    language is right from the first thing a screen reader reads.
    """
    script = _SCRIPT % {"labels": script_json(LABELS), "lang": script_json(LANGUAGE),
              "helper": script_json(HELPER_FRAME), "texts": script_json(TEXTS),
              "text_places": script_json(TEXT_PLACES)}
    components.html(script, height=0, tab_index=-1)  # not a stop for keyboard users
