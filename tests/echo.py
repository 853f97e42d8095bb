"""Checking that an error does not repeat the caller's text.

A property test feeds random text and asserts the message does not contain it.  Random text can
also be a word of the message's own fixed wording ("what", " or "), which is not an echo: a
text is echoed only when it is in the message and not in the message the same fault gives for
a reference input that shares no characters with it.
"""

from __future__ import annotations


def echoes(text: str, message: str, reference_message: str, *, shortest: int = 4) -> bool:
    """True when ``message`` repeats ``text`` (of ``shortest`` characters or more) where the
    message for a reference input does not."""
    return len(text) >= shortest and text in message and text not in reference_message
