"""Text made safe for the places rjflow writes it: terminals, Mermaid and Graphviz DOT.

Every text rjflow emits into another language passes through here, whoever supplied it
(a policy name, a case id, a file path, an error message).  The rule has two layers:

1. :func:`printable` replaces each character that is not printable (Unicode categories Cc
   control, including ESC and so every ANSI escape sequence, and the C1 controls; Cf format,
   including the bidirectional overrides U+202A-U+202E and U+2066-U+2069; Cs lone surrogates;
   Co private use; Cn unassigned; Zl/Zp line and paragraph separators; and every space but
   U+0020) by a visible escape such as ``\\x1b`` or ``\\u202e``.  After it, text cannot move a
   terminal's cursor, recolour it, reorder what is shown, or break a line.
2. Each language then escapes what is special to it: :func:`mermaid_text` writes every
   character but letters, digits and a few plain punctuation marks as a Mermaid entity code
   (``#35;``), so ``-->``, ``%%``, ``{``, ``}``, ``"``, ``;`` and ``#`` cannot start syntax;
   :func:`dot_text` escapes backslashes, quotes and ``&`` inside a DOT quoted string.

>>> printable("X\\r\\n    referred --> completed")
'X\\\\x0d\\\\x0a    referred --> completed'
>>> mermaid_text("a --> b")
'a #45;#45;#62; b'
"""

from __future__ import annotations

__all__ = ["dot_text", "mermaid_text", "printable"]

#: Characters :func:`mermaid_text` keeps as they are, besides letters and digits.
_MERMAID_PLAIN = frozenset(" _.,:()'/?!+=@")


def _escaped(ch: str) -> str:
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def printable(text: str, *, keep: str = "") -> str:
    """``text`` with every non-printable character (see the module docstring) replaced by a
    visible escape; characters in ``keep`` (for example ``"\\n"``) are left alone."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch in keep else _escaped(ch) for ch in text)


def mermaid_text(text: str) -> str:
    """``text`` for a Mermaid label or comment: :func:`printable`, then every character but
    letters, digits and `` _.,:()'/?!+=@`` as an entity code (``#NNN;``), which Mermaid shows
    as the character itself."""
    return "".join(
        ch if ch.isalnum() or ch in _MERMAID_PLAIN else f"#{ord(ch)};" for ch in printable(text)
    )


def dot_text(text: str) -> str:
    """``text`` for the inside of a Graphviz DOT quoted string: :func:`printable`, then
    backslash, double quote and ``&`` escaped (Graphviz would read ``&lt;`` as an entity)."""
    return printable(text).replace("\\", "\\\\").replace('"', '\\"').replace("&", "&amp;")
