"""**Læs op**: a button that reads an answer aloud with the browser's own Danish speech synthesis.

The Web Speech API speaks inside the citizen's browser: no text is sent anywhere, and nothing
is installed. The text is made in Python (see `ui.render.spoken_answer`) and embedded as
JSON. One reading at a time for the whole page: the synthesis of the page itself (the frame's
parent) is used, so a new reading stops another answer's, and a second press stops this one.
When the browser has no Danish voice on the device the frame says so instead of reading Danish
with an English voice, or sending the text to an online voice.
"""

from __future__ import annotations

import streamlit as st

from ui.scripts import script_json

LABEL = "Læs op"
STOP = "Stop oplæsning"
SAYS = {
    "reading": "Læser svaret op …",
    "stopped": "Oplæsningen er stoppet.",
    "done": "",
    "no_voice": (
        "Din browser har ingen dansk stemme, så svaret kan ikke læses op. Du kan tilføje dansk "
        "tale i computerens eller telefonens indstillinger for sprog og tale."
    ),
    "no_speech": "Din browser kan ikke læse tekst op.",
    "online_voice": (
        "Din browsers danske stemme sender teksten til en tjeneste på nettet, så vi bruger den "
        "ikke. Du kan tilføje dansk tale på enheden i indstillingerne for sprog og tale."
    ),
}
VOICE_WAIT_MS = 1500  # Chrome lists its voices a moment after the page loads

_STYLE = """<style>
  html, body { margin: 0; background: transparent; }
  body { padding: 4px; }  /* room for the focus outline inside the frame */
  body { font-family: "Source Sans Pro", "Source Sans 3", system-ui, sans-serif;
         font-size: 1rem; line-height: 1.6; color: rgb(49, 51, 63); }
  button { font: inherit; color: inherit; background: #fff; cursor: pointer;
           border: 1px solid rgba(49, 51, 63, 0.4); border-radius: 0.5rem;
           padding: 0.25rem 0.75rem; min-height: 2.5rem; margin: 2px; }
  button:hover { border-color: rgb(255, 75, 75); color: rgb(200, 30, 30); }
  button:focus-visible { outline: 2px solid rgb(38, 39, 48); outline-offset: 2px; }
  p { margin: 0.25rem 0 0 0; }
  p:empty { display: none; }
</style>"""

_BODY = """<button type="button" id="read">%(label)s</button>
<p id="said" role="status" aria-live="polite"></p>
<script>
(() => {
  const text = %(text)s, says = %(says)s, label = %(label_js)s, stop = %(stop_js)s;
  const id = %(id)s, wait = %(wait)d;
  const host = window.parent;  // the page: one reading at a time for all answers
  const synth = host.speechSynthesis || window.speechSynthesis;
  const Utterance = host.SpeechSynthesisUtterance || window.SpeechSynthesisUtterance;
  const button = document.getElementById("read"), said = document.getElementById("said");
  // The frame is as tall as what it shows: the status line comes and goes.
  const fit = () => {
    const frame = window.frameElement;
    if (frame) frame.style.height = Math.ceil(document.body.getBoundingClientRect().height) + "px";
  };
  new ResizeObserver(fit).observe(document.body);
  // The page's own font, so the button looks like the page's buttons.
  try {
    for (const face of host.document.fonts) document.fonts.add(face);
    document.body.style.fontFamily = host.getComputedStyle(host.document.body).fontFamily;
  } catch (e) { /* the fallback fonts above */ }
  // The button follows the page's synthesis, not this frame's events: Streamlit may reload
  // the frame while it reads (a rerun), and another answer's button may take over.
  let poll = null;
  const show = (what, reading) => {
    said.textContent = says[what];
    button.textContent = reading ? stop : label;
    clearInterval(poll);
    if (reading) poll = setInterval(() => {
      if (host.__sporgReading === id && (synth.speaking || synth.pending)) return;
      if (host.__sporgReading === id) host.__sporgReading = null;
      show("done", false);
    }, 400);
  };
  const mine = () => host.__sporgReading === id && synth && (synth.speaking || synth.pending);
  if (mine()) show("reading", true);
  // A Danish voice on this device; a voice the browser marks as an online service
  // (localService false) would send the text away, so it is never used.
  const isDanish = (v) => /^da([-_]|$)/i.test(v.lang || "");
  const onDevice = (v) => v.localService !== false;
  const voices = () => new Promise((done) => {
    const now = synth.getVoices();
    if (now.length) return done(now);
    const later = () => done(synth.getVoices());
    if (synth.addEventListener) synth.addEventListener("voiceschanged", later, { once: true });
    setTimeout(later, wait);
  });
  if (synth) synth.getVoices();  // Chrome loads its voice list on first ask
  button.addEventListener("click", async () => {
    if (!synth || !Utterance) return show("no_speech", false);
    if (mine()) {
      synth.cancel();
      host.__sporgReading = null;
      return show("stopped", false);
    }
    const danish = (await voices()).filter(isDanish);
    const voice = danish.find(onDevice);
    if (!voice) return show(danish.length ? "online_voice" : "no_voice", false);
    if (synth.speaking || synth.pending) synth.cancel();
    const utterance = new Utterance(text);
    utterance.lang = "da-DK";
    utterance.voice = voice;
    host.__sporgReading = id;
    synth.speak(utterance);
    show("reading", true);
  });
})();
</script>"""


def read_aloud_html(text: str, key: str) -> str:
    """The frame's document: the button, a status line screen readers announce, the script."""
    body = _BODY % {
        "label": LABEL,
        "text": script_json(text),
        "says": script_json(SAYS),
        "label_js": script_json(LABEL),
        "stop_js": script_json(STOP),
        "id": script_json(key),
        "wait": VOICE_WAIT_MS,
    }
    return f'<!doctype html><html lang="da"><head>{_STYLE}</head><body>{body}</body></html>'


def read_aloud(text: str, key: str) -> None:
    """A **Læs op** button under an answer (chat, hotline, and any later page with answers).

    `key` names the answer (its id), so two answers with the same text are still two readings.
    """
    if text.strip():
        st.iframe(read_aloud_html(text, key), height="content", alt=f"{LABEL}: oplæsning af svaret")
