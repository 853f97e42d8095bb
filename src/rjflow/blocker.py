"""One reason an action is not allowed now: the small value every layer shares.

It sits at the bottom of the package (it imports nothing from rjflow but the read-only dict
both it and event data are made of, :mod:`rjflow._readonly`) so that the rules that
raise blockers, the errors that carry them and the case that reports them never import one
another in a circle.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import attrs

from rjflow._readonly import ReadOnlyDict

__all__ = ["Blocker", "ParamValue", "Params", "placeholders", "render"]

#: What a blocker's parameter may be: a validated id, a number, an enum's value or label, or
#: words of rjflow's own (a stage's label, a length in hours written in English).
ParamValue = str | int


class Params(ReadOnlyDict):
    """A blocker's parameters: a ``dict`` (so JSON encoders and ``==`` treat it as one) that
    refuses every change, hashes by its items and pickles to itself.

    >>> p = Params({"limit": "3 h"})
    >>> p == {"limit": "3 h"}, hash(p) == hash(Params(limit="3 h"))
    (True, True)
    """

    __slots__ = ()
    refusal = "A blocker's parameters are read-only."


def _params(value: Mapping[str, ParamValue]) -> Params:
    if isinstance(value, Params):
        return value
    for key, item in value.items():
        if not isinstance(key, str) or isinstance(item, bool) or not isinstance(item, str | int):
            raise TypeError(
                "A blocker's parameters map names to ids, numbers or rjflow's own words "
                "(str or int)."
            )
    return Params(value)


def _escaped(message: str) -> str:
    # A blocker made without a template: its message, read as a template, renders to itself.
    return message.replace("{", "{{").replace("}", "}}")


def _fields(template: str) -> Iterator[tuple[str, str, str | None]]:
    for _literal, name, spec, conversion in string.Formatter().parse(template):
        if name is not None:
            yield name, spec or "", conversion


def _word(gettext: Callable[[str], str | None], value: ParamValue) -> ParamValue:
    # A parameter that is rjflow's own word or phrase (a stage's label, a next step) is
    # translated too when the catalogue has it; ids and numbers are not in it and stay.
    if not isinstance(value, str) or not value:
        return value
    try:
        text = gettext(value)
    except Exception:  # a broken catalogue must not break the screen
        return value
    if not isinstance(text, str) or not text or placeholders(text):
        return value
    return text


def render(template: str, params: Mapping[str, ParamValue]) -> str | None:
    """``template`` with each ``{name}`` replaced by ``params[name]``, or ``None`` when the
    template is not one rjflow can fill safely: a placeholder that is not a plain name of
    ``params`` (no attribute or index access, no conversion or format spec) or a malformed
    brace. A translated template comes from a catalogue, so it is checked, never trusted.

    >>> render("At most {limit}.", {"limit": "3 h"})
    'At most 3 h.'
    >>> render("At most {limit.__class__}.", {"limit": "3 h"}) is None
    True
    """
    try:
        fields = list(_fields(template))
    except ValueError:
        return None
    for name, spec, conversion in fields:
        if name not in params or spec or conversion is not None:
            return None
    return template.format_map(params)


def placeholders(template: str) -> frozenset[str]:
    """The names ``template`` puts in braces (empty for a malformed template).

    >>> sorted(placeholders("Party {party} needs {needed}."))
    ['needed', 'party']
    """
    try:
        return frozenset(name for name, _spec, _conv in _fields(template))
    except ValueError:
        return frozenset()


@attrs.frozen
class Blocker:
    """One reason an action is not allowed now.

    ``code`` is stable across releases (programs may branch on it); ``message`` is a full
    sentence for the caseworker, in English; ``guard`` names the rule that raised it;
    ``subject`` is the id of the party or agreement action concerned, when there is one (a
    screen can highlight it).

    ``template`` is the English message with ``{name}`` placeholders, the text a translation
    catalogue (``rjflow.pot``) holds, and ``params`` the values that fill them: party ids,
    numbers, enum labels, and words rjflow wrote itself (a stage's label, a length such as
    ``"3 h 30 min"``) — never text an application passed in. ``message`` is always
    ``template`` rendered with ``params``. A blocker made without a template (older code,
    tests) takes its message as its template, with no parameters. :meth:`translated` and
    :func:`rjflow.i18n.translate` render the message in another language.

    >>> b = Blocker("session_too_long", "A session lasts at most 3 h.", "a_rule")
    >>> b.code, str(b)
    ('session_too_long', 'A session lasts at most 3 h.')
    >>> t = Blocker.of("too_long", "At most {limit}.", "a_rule", limit="3 h")
    >>> t.message, t.template, t.params
    ('At most 3 h.', 'At most {limit}.', {'limit': '3 h'})
    """

    code: str
    message: str
    guard: str
    subject: str | None = None
    template: str = attrs.field(
        default=attrs.Factory(lambda self: _escaped(self.message), takes_self=True)
    )
    params: Mapping[str, ParamValue] = attrs.field(factory=Params, converter=_params)

    @classmethod
    def of(
        cls,
        code: str,
        template: str,
        guard: str = "",
        subject: str | None = None,
        /,
        **params: ParamValue,
    ) -> Blocker:
        """A blocker whose message is ``template`` rendered with ``params``.

        :raises KeyError: ``template`` names a placeholder missing from ``params``.
        """
        frozen = _params(params)
        return cls(code, template.format_map(frozen), guard, subject, template, frozen)

    def __str__(self) -> str:
        return self.message

    def translated(self, gettext: Callable[[str], str | None]) -> str:
        """The message in another language: ``gettext(template)`` rendered with ``params``.

        Falls back to the English ``message`` when the catalogue has no translation (``gettext``
        returns the template unchanged), when the translation's placeholders are not exactly
        the template's, or when ``gettext`` fails: a caseworker's screen never breaks over a
        catalogue. Each text parameter the catalogue also translates (a stage's label, rjflow's
        words for a next step: the ``rjflow.pot`` holds them) is put in translated.

        >>> b = Blocker.of("too_long", "At most {limit}.", "a_rule", limit="3 h")
        >>> b.translated({"At most {limit}.": "Höchstens {limit}."}.get)
        'Höchstens 3 h.'
        >>> b.translated(lambda t: "Höchstens {grenze}.")
        'At most 3 h.'
        """
        try:
            text = gettext(self.template)
        except Exception:  # a broken catalogue must not break the screen
            return self.message
        if not isinstance(text, str) or text == self.template:
            return self.message
        if placeholders(text) != placeholders(self.template):
            return self.message
        rendered = render(text, {k: _word(gettext, v) for k, v in self.params.items()})
        return self.message if rendered is None else rendered

    def to_json_dict(self, gettext: Callable[[str], str | None] | None = None) -> dict[str, Any]:
        """The blocker as JSON data: ``{"code", "message", "guard", "subject", "template",
        "params"}`` (``subject`` null when no party or agreement action is concerned;
        ``params`` an object of strings and integers). With ``gettext`` (a catalogue's
        ``gettext``: :func:`rjflow.i18n.translator`), ``message`` is :meth:`translated`; the
        ``template`` stays English.

        >>> b = Blocker("too_long", "At most 3 h.", "a_rule", "V1")
        >>> b.to_json_dict()  # doctest: +NORMALIZE_WHITESPACE
        {'code': 'too_long', 'message': 'At most 3 h.', 'guard': 'a_rule', 'subject': 'V1',
         'template': 'At most 3 h.', 'params': {}}
        """
        return {
            "code": self.code,
            "message": self.message if gettext is None else self.translated(gettext),
            "guard": self.guard,
            "subject": self.subject,
            "template": self.template,
            "params": dict(self.params),
        }
