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

import hashlib
import hmac
from collections.abc import Mapping
from types import MappingProxyType

import attrs

from rjflow._validate import _check_id
from rjflow.errors import InvalidInput

__all__ = ["MIN_KEY_BYTES", "Keyring", "integrity_mac", "snapshot_seal"]

#: The shortest secret accepted, in bytes (HMAC-SHA256 keys should be 32 random bytes).
MIN_KEY_BYTES = 16

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
