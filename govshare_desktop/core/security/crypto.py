"""Every cryptographic primitive the application uses, behind one small interface (R12): a
national-algorithm provider (SM3/SM4) can replace this module without touching its callers.

* password hashes: Argon2id (argon2-cffi; t=3, m=64 MiB, p=4 — above the OWASP minimum);
* key wrapping: AES-256-GCM under a key derived from a password with Argon2id (its own salt);
* random keys: 256 bits from the OS;
* one-time signing keys for the audit trail: Ed25519 (raw 32-byte keys);
* the township's signing key for exchange packages: Ed25519, PEM for the package code, its
  private half sealed with AES-256-GCM under a key derived from the database key (HKDF-SHA256).

The costs are the product's (:data:`PRODUCT`) in every program; only the test suite makes cheap
hashes, through :func:`_set_profile_for_tests` from ``tests/kdf.py`` (which no product code
reaches).
"""

from __future__ import annotations

import base64
import os
import sys
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

TIME_COST, MEMORY_KIB, PARALLELISM = 3, 64 * 1024, 4
NAME_TIME_COST, NAME_MEMORY_KIB = 2, 19 * 1024  # the OWASP minimum: one per sign-in attempt


@dataclass(frozen=True)
class KdfProfile:
    """The Argon2id costs new hashes and wrapped keys are made with: passwords and key wrapping
    (passes, KiB, lanes) and the typed-name hash (passes, KiB; one lane). What is stored carries
    its own parameters (PHC strings, the wrapped key's JSON), so any profile's output is checked
    by any other; only the typed-name tag is compared as made."""

    time_cost: int
    memory_kib: int
    parallelism: int
    name_time_cost: int
    name_memory_kib: int


PRODUCT = KdfProfile(TIME_COST, MEMORY_KIB, PARALLELISM, NAME_TIME_COST, NAME_MEMORY_KIB)
_profile = PRODUCT
# What an unknown name is checked against (the product's parameters; a test keeps them so): made
# once, not at every start-up, and never on the first sign-in (that one would take longer).
_DUMMIES = {
    PRODUCT: "$argon2id$v=19$m=65536,t=3,p=4$ubCVbccMUVjRz+cAkAgYNA$"
    "F/17M/Onep9H8SPef2wZDeRoeZepQh+aBNxrebgA/rI"
}
_TEST_SWITCH = "tests.kdf"  # the only module allowed to change the profile


def _set_profile_for_tests(profile: KdfProfile) -> None:
    """TEST ONLY: make new hashes and wrapped keys with ``profile`` (the test suite's cheap one)
    in this process. The product never calls this — nothing under ``govshare_desktop`` names it
    (tests/core/security/test_kdf_profile.py checks) — and it refuses any caller but the test
    suite's :mod:`tests.kdf`."""
    global _profile
    caller = sys._getframe(1).f_globals.get("__name__")
    if caller != _TEST_SWITCH:
        raise RuntimeError(f"the KDF profile is the product's; {caller} may not change it")
    _profile = profile
    _DUMMIES.setdefault(profile, _hasher(profile).hash("govshare-dummy-password"))


@lru_cache(maxsize=4)
def _hasher(profile: KdfProfile) -> PasswordHasher:
    return PasswordHasher(
        time_cost=profile.time_cost,
        memory_cost=profile.memory_kib,
        parallelism=profile.parallelism,
    )


class CryptoError(Exception):
    pass


def random_key() -> bytes:
    return os.urandom(32)


def hash_password(password: str) -> str:
    return _hasher(_profile).hash(password)


def verify_password(phc: str, password: str) -> bool:
    try:  # the parameters are the PHC string's own
        return _hasher(_profile).verify(phc, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def dummy_verify(password: str) -> None:
    """Spend the time of a real check (no answer from timing whether a user exists)."""
    verify_password(_DUMMIES[_profile], password)


def name_tag(key: bytes, name: str) -> str:
    """A keyed, slow hash of a typed user name (hex): the same name gives the same tag under
    the same key, and the name cannot be read back — nor found quickly by trying every ID
    number, should one be typed as the name."""
    return hash_secret_raw(
        name.encode("utf-8"),
        b"govshare-name:" + key,
        time_cost=_profile.name_time_cost,
        memory_cost=_profile.name_memory_kib,
        parallelism=1,
        hash_len=16,
        type=Type.ID,
    ).hex()


def needs_rehash(phc: str) -> bool:
    try:
        return _hasher(_profile).check_needs_rehash(phc)
    except InvalidHashError:
        return True


def _kek(secret: str, salt: bytes, time_cost: int, memory_kib: int, parallelism: int) -> bytes:
    return hash_secret_raw(
        secret.encode("utf-8"),
        salt,
        time_cost=time_cost,
        memory_cost=memory_kib,
        parallelism=parallelism,
        hash_len=32,
        type=Type.ID,
    )


@dataclass(frozen=True)
class Wrapped:
    """A key wrapped under a password: the KDF parameters travel with it."""

    salt: bytes
    nonce: bytes
    ciphertext: bytes
    time_cost: int = TIME_COST
    memory_kib: int = MEMORY_KIB
    parallelism: int = PARALLELISM

    def to_json(self) -> dict[str, Any]:
        return {
            "kdf": "argon2id",
            "t": self.time_cost,
            "m": self.memory_kib,
            "p": self.parallelism,
            "salt": base64.b64encode(self.salt).decode("ascii"),
            "aead": "aes-256-gcm",
            "nonce": base64.b64encode(self.nonce).decode("ascii"),
            "ciphertext": base64.b64encode(self.ciphertext).decode("ascii"),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Wrapped:
        if data.get("kdf") != "argon2id" or data.get("aead") != "aes-256-gcm":
            raise CryptoError("unknown key wrapping")
        return cls(
            base64.b64decode(data["salt"]),
            base64.b64decode(data["nonce"]),
            base64.b64decode(data["ciphertext"]),
            int(data["t"]),
            int(data["m"]),
            int(data["p"]),
        )


def wrap(key: bytes, secret: str) -> Wrapped:
    salt, nonce = os.urandom(16), os.urandom(12)
    profile = _profile
    kek = _kek(secret, salt, profile.time_cost, profile.memory_kib, profile.parallelism)
    return Wrapped(
        salt,
        nonce,
        AESGCM(kek).encrypt(nonce, key, b"govshare-dek"),
        profile.time_cost,
        profile.memory_kib,
        profile.parallelism,
    )


def unwrap(wrapped: Wrapped, secret: str) -> bytes:
    kek = _kek(secret, wrapped.salt, wrapped.time_cost, wrapped.memory_kib, wrapped.parallelism)
    try:
        return AESGCM(kek).decrypt(wrapped.nonce, wrapped.ciphertext, b"govshare-dek")
    except InvalidTag:
        raise CryptoError("wrong secret") from None


# ---------------------------------------------------------------- one-time signing keys (audit)


def new_signing_key() -> tuple[bytes, bytes]:
    """A fresh Ed25519 key pair as raw bytes: (private 32, public 32)."""
    key = Ed25519PrivateKey.generate()
    return _raw_private(key), _raw_public(key)


def signing_public(private: bytes) -> bytes:
    return _raw_public(Ed25519PrivateKey.from_private_bytes(private))


def sign(private: bytes, data: bytes) -> bytes:
    return Ed25519PrivateKey.from_private_bytes(private).sign(data)


def signature_valid(public: bytes, signature: bytes, data: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, data)
    except (InvalidSignature, ValueError):
        return False
    return True


def _raw_private(key: Any) -> bytes:
    return bytes(
        key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
    )


def _raw_public(key: Any) -> bytes:
    return bytes(
        key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )


# ---------------------------------------------------------------- keys sealed under the database key


def subkey(secret: bytes, purpose: str) -> bytes:
    """A 256-bit key for one ``purpose``, derived from the database key with HKDF-SHA256."""
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode("utf-8")
    ).derive(secret)


def seal(key: bytes, plaintext: bytes, aad: bytes) -> dict[str, str]:
    """AES-256-GCM under ``key`` (from :func:`subkey`), bound to ``aad``; JSON-ready."""
    nonce = os.urandom(12)
    return {
        "aead": "aes-256-gcm",
        "nonce": base64.b64encode(nonce).decode("ascii"),
        "ciphertext": base64.b64encode(AESGCM(key).encrypt(nonce, plaintext, aad)).decode("ascii"),
    }


def unseal(key: bytes, sealed: dict[str, str], aad: bytes) -> bytes:
    if sealed.get("aead") != "aes-256-gcm":
        raise CryptoError("unknown sealing")
    try:
        return AESGCM(key).decrypt(
            base64.b64decode(sealed["nonce"]), base64.b64decode(sealed["ciphertext"]), aad
        )
    except (InvalidTag, KeyError, ValueError):
        raise CryptoError("wrong key or damaged sealed data") from None


def seal_chunk(key: bytes, nonce: bytes, chunk: bytes, aad: bytes) -> bytes:
    """One chunk of a sealed stream (:mod:`~govshare_desktop.core.security.sealed_file`):
    AES-256-GCM under ``key`` with the caller's 96-bit ``nonce`` (never used twice per key)."""
    return AESGCM(key).encrypt(nonce, chunk, aad)


def unseal_chunk(key: bytes, nonce: bytes, sealed: bytes, aad: bytes) -> bytes:
    try:
        return AESGCM(key).decrypt(nonce, sealed, aad)
    except (InvalidTag, ValueError):
        raise CryptoError("wrong key or damaged sealed data") from None


def signing_private_pem(private: bytes) -> bytes:
    """A raw Ed25519 private key as unencrypted PKCS#8 PEM (held in memory only, to sign)."""
    return bytes(
        Ed25519PrivateKey.from_private_bytes(private).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def signing_public_pem(public: bytes) -> bytes:
    """A raw Ed25519 public key as SubjectPublicKeyInfo PEM (what the county registers)."""
    return bytes(
        Ed25519PublicKey.from_public_bytes(public).public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
