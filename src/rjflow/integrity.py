"""Keyed integrity: an HMAC over the chain head, with keys held by the application.

The SHA-256 chain alone detects accidental corruption and naive edits, but anyone who can
write the file can change an event and recompute every hash, or delete the newest events.
With a :class:`Keyring`, a saved document also carries an ``integrity`` object: the key id,
the case id, the version (number of events), the hash of the last event (the *head*) and an
HMAC-SHA256 under the key over those (plus the migration provenance and the snapshot seal,
when present).  A load given the keyring requires it and checks it, so edits (even with the
chain recomputed), truncation, extension, a removed seal and a removed snapshot are detected
by anyone holding the key — and cannot be forged by anyone who does not.

>>> ring = Keyring({"2026-11": b"32 random bytes from the app....."}, current="2026-11")
>>> ring
Keyring(key_ids=('2026-11',), current='2026-11')
>>> len(integrity_mac(ring, "2026-11", case_id="RJ-1", version=3, head="a" * 64))
64

**Rotating keys.**  Loads accept any key id in the ring; saves use ``current``.  To rotate:
add the new key to the ring and make it ``current``; re-save every case (each save seals with
the new key); once no document is sealed with the old key, drop it from the ring.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

import attrs

from rjflow import _toml
from rjflow._validate import _check_id
from rjflow.errors import InvalidInput, SourceUnavailable

__all__ = ["MIN_KEY_BYTES", "Keyring", "integrity_mac", "snapshot_seal"]

#: The shortest secret accepted, in bytes (HMAC-SHA256 keys should be 32 random bytes).
MIN_KEY_BYTES = 16

_KEY_FILE_SHAPE = (
    'The key file {problem}: write current = "<key id>" and a [keys] table of '
    '"<key id>" = "<secret, base64>" lines, as rjflow keyring new writes it '
    "(docs/integrity.md)."
)

#: The largest key file read, in bytes: a ring of hundreds of keys is a few dozen kilobytes.
_KEY_FILE_LIMIT = 1 << 20

_INTEGRITY_DOMAIN = "rjflow integrity 1"
_SNAPSHOT_DOMAIN = "rjflow sealed snapshot 2"


def _secrets(value: object) -> Mapping[str, bytes]:
    if not isinstance(value, Mapping) or not value:
        raise InvalidInput(
            "A keyring needs a mapping of at least one key id to its secret, for example "
            'Keyring({"2026-11": secret}, current="2026-11").'
        )
    checked: dict[str, bytes] = {}
    for key_id, secret in value.items():
        _check_id("key id", key_id)
        if not isinstance(secret, bytes) or len(secret) < MIN_KEY_BYTES:
            raise InvalidInput(
                f"The secret of key {key_id} must be at least {MIN_KEY_BYTES} bytes (got "
                f"{'a shorter one' if isinstance(secret, bytes) else type(secret).__name__}); "
                "use 32 random bytes (secrets.token_bytes(32)) kept with your application's "
                "other secrets."
            )
        checked[key_id] = secret
    return MappingProxyType(checked)


@attrs.frozen(eq=False)
class Keyring:
    """The application's integrity keys, by key id; ``current`` is the one new saves use.

    ``keys`` maps opaque key ids (the id pattern of :mod:`rjflow._validate`, for example
    ``"2026-11"``) to secrets of at least :data:`MIN_KEY_BYTES` bytes.  Loads accept any key
    in the ring, which is how keys are rotated (see the module docstring).  The repr shows the
    key ids only, never a secret.  Raises :class:`~rjflow.InvalidInput` for a malformed ring.
    """

    _keys: Mapping[str, bytes] = attrs.field(converter=_secrets, repr=False, alias="keys")
    current: str = attrs.field()

    @current.validator
    def _check_current(self, _attribute: object, value: object) -> None:
        _check_id("current", value)
        if value not in self._keys:
            raise InvalidInput(
                "'current' must be one of the keyring's key ids; add its secret to the ring."
            )

    def __repr__(self) -> str:
        return f"Keyring(key_ids={self.key_ids!r}, current={self.current!r})"

    def __reduce__(self) -> tuple[type[Keyring], tuple[dict[str, bytes], str]]:
        # copy.copy, copy.deepcopy and pickle (for example to hand the ring to a worker
        # process) rebuild the ring from its keys; a pickle holds the secrets, so keep it
        # where the secrets themselves may be kept.
        return (Keyring, (dict(self._keys), self.current))

    @property
    def key_ids(self) -> tuple[str, ...]:
        """The ids of the keys in the ring, sorted."""
        return tuple(sorted(self._keys))

    def __contains__(self, key_id: object) -> bool:
        return key_id in self._keys

    def _secret(self, key_id: str) -> bytes:
        return self._keys[key_id]

    def rotated(self, key_id: str, secret: bytes) -> Keyring:
        """A ring with every key of this one and ``key_id`` (new) as ``current``: saves then
        seal with it, loads still accept the others (see "Rotating keys" above).  Raises
        :class:`~rjflow.InvalidInput` when ``key_id`` is in the ring already or the secret is
        too short."""
        if key_id in self._keys:
            raise InvalidInput(
                f"The keyring already has a key {key_id}; give the new key an id of its own "
                "(for example the month it starts: 2026-12)."
            )
        return Keyring({**self._keys, key_id: secret}, current=key_id)

    def to_toml(self) -> str:
        """The key file :meth:`from_toml` reads, secrets included: write it only where the
        application keeps its secrets (``rjflow keyring new`` and ``rotate`` write it readable
        by its owner alone)."""
        lines = [
            "# rjflow key file (docs/integrity.md): the keys that seal this service's cases.",
            "# Keep it private: whoever holds it can seal a case; without it no seal can be",
            "# checked. Loads accept every key below; saves seal with the current one.",
            f'current = "{self.current}"',
            "",
            "[keys]",
        ]
        for key_id in self.key_ids:  # ids are opaque ids: nothing in them needs escaping
            lines.append(f'"{key_id}" = "{base64.b64encode(self._keys[key_id]).decode()}"')
        return "\n".join(lines) + "\n"

    @classmethod
    def from_toml(cls, path: str | os.PathLike[str]) -> Keyring:
        """The keyring a key file describes: TOML with the current key id and a ``[keys]``
        table of key id = secret, each secret base64 text of at least :data:`MIN_KEY_BYTES`
        bytes (``rjflow keyring new FILE`` writes one; docs/integrity.md)::

            current = "2026-11"

            [keys]
            "2026-11" = "q4bJ0l7yS0... (32 random bytes, base64)"

        Keep the file where the application keeps its other secrets, readable by it alone.
        Raises :class:`~rjflow.SourceUnavailable` (an ``OSError``; its message does not repeat
        the path) when the file cannot be read, and :class:`~rjflow.InvalidInput` for a file
        that is not such a key file; no message ever repeats the file's text (it holds
        secrets), only key ids once they are valid ids.
        """
        try:
            with Path(path).open("rb") as stream:
                data = stream.read(_KEY_FILE_LIMIT + 1)
        except OSError as exc:
            raise SourceUnavailable.reading("The key file", exc, os.fspath(path)) from None
        except (TypeError, ValueError):
            raise InvalidInput(
                "'path' must name the key file, as text or a pathlib.Path (got "
                f"{type(path).__name__} that is no file name)."
            ) from None
        if len(data) > _KEY_FILE_LIMIT:
            raise InvalidInput(
                _KEY_FILE_SHAPE.format(problem=f"is larger than {_KEY_FILE_LIMIT} bytes")
            )
        try:
            document, _ = _toml.parse(data)
        except _toml.TomlFault as fault:
            at = f" at line {fault.line}, column {fault.column}" if fault.line else ""
            problem = {
                "encoding": "is not UTF-8 text",
                "twice": f"sets a key twice{at}",
            }.get(fault.kind, f"is not valid TOML{at}")
            raise InvalidInput(_KEY_FILE_SHAPE.format(problem=problem)) from None
        keys = document.get("keys")
        if set(document) != {"current", "keys"} or not isinstance(keys, dict) or not keys:
            raise InvalidInput(
                _KEY_FILE_SHAPE.format(problem="must hold 'current' and a [keys] table, only")
            )
        secrets: dict[str, bytes] = {}
        for key_id, text in keys.items():
            _check_id("key id", key_id)
            try:
                secrets[key_id] = base64.b64decode(text, validate=True)
            except (TypeError, ValueError, binascii.Error):
                secrets[key_id] = b""  # refused below, with the key id
            if len(secrets[key_id]) < MIN_KEY_BYTES:
                raise InvalidInput(
                    f"The secret of key {key_id} in the key file must be base64 text of at "
                    f"least {MIN_KEY_BYTES} bytes; if the file was copied, copy the secret "
                    "again in full, or make a new file with rjflow keyring new."
                )
        return cls(secrets, current=document["current"])


def _mac(secret: bytes, lines: list[str]) -> str:
    return hmac.new(secret, "\n".join(lines).encode(), hashlib.sha256).hexdigest()


def integrity_mac(
    keyring: Keyring,
    key_id: str,
    *,
    case_id: str,
    version: int,
    head: str,
    migrated_from: str = "-",
    snapshot_seal: str = "-",
) -> str:
    """HMAC-SHA256 (hex) under the key ``key_id`` of the integrity message: the lines
    ``rjflow integrity 1``, key id, case id, version, head, migration provenance (canonical
    JSON, or ``-``) and snapshot seal (or ``-``), joined by ``\\n`` and UTF-8 encoded.

    Every line but the provenance is an opaque id, a number or hex digits, and the provenance
    is compact JSON, so no line can contain a line break: the message is unambiguous.
    """
    return _mac(
        keyring._secret(key_id),
        [
            _INTEGRITY_DOMAIN,
            key_id,
            case_id,
            str(version),
            head,
            migrated_from,
            snapshot_seal,
        ],
    )


def snapshot_seal(
    keyring: Keyring, key_id: str, *, policy_fingerprint: str, head: str, record_text: str
) -> str:
    """HMAC-SHA256 (hex) sealing a snapshot record to the chain head and the policy: the lines
    ``rjflow sealed snapshot 2``, key id, policy fingerprint, head, then the record's
    canonical JSON."""
    return _mac(
        keyring._secret(key_id),
        [_SNAPSHOT_DOMAIN, key_id, policy_fingerprint, head, record_text],
    )
