"""Small browser scripts embedded in the pages, with the one safe way to put Python data in them."""

from __future__ import annotations

import json
from typing import Any

# Characters that could end a <script> element or open an HTML comment inside it.
_UNSAFE_IN_SCRIPT = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"}


def script_json(value: Any) -> str:
    """`value` as a JavaScript literal that is safe inside <script>.

    Answers quote documents and questions that citizens typed, so a `</script>` in them must stay
    text: JSON with every non-ASCII character and every <, > and & escaped cannot end the element.
    """
    text = json.dumps(value, ensure_ascii=True)
    for char, escaped in _UNSAFE_IN_SCRIPT.items():
        text = text.replace(char, escaped)
    return text
