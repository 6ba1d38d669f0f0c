"""Keys, signatures and release records on disk (plan 六(五), 七(二), 八(三); DESIGN.md).

Crypto: Ed25519 (RFC 8032) through the ``cryptography`` package. A person's
key pair is two text files::

    FILE          the private key, PKCS#8 PEM encrypted with the passphrase
                  (BestAvailableEncryption), after two header lines naming
                  the holder; it stays with the person
    FILE.pub      the public key (PEM) after the same header lines

A run keeps what sign-off needs under ``runs/<run>/signatures/``::

    keys.json           public keys registered for the run: person id -> key
    reports.json        the team reports of the run and the slice each rests on
                        (written by the reports stage)
    <stem>.json         the signatures of one report (payload + signature each)

and the release record of the feedback packages in
``runs/<run>/feedback/releases.jsonl`` (append-only, one JSON object a line,
each carrying the SHA-256 of the previous line).

Only this module reads or writes these files; deciding what a signature
means (right signer, changed after signing) is :mod:`xkaohe.analyse.signoff`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from xkaohe.errors import InputError, Problem
from xkaohe.io.files import atomic_path, read_json, sha256_file, write_json, write_text
from xkaohe.io.fingerprints import TEAM_REPORT_INPUTS, input_tables, slice_digest

SIGNATURES = "signatures"
KEYS = "keys.json"
REPORTS = "reports.json"
RELEASES = "releases.jsonl"
PASSPHRASE_ENV = "XKAOHE_KEY_PASSPHRASE"
"""Environment variable read for a key's passphrase (else the terminal prompts)."""
ALGORITHM = "Ed25519"
_HEADER = re.compile(r"^xkaohe-(name|person-id):\s*(.*)$")
_STEM = re.compile(r"^[^/\\\x00]{1,200}$")


def signatures_dir(run: Path) -> Path:
    return run / SIGNATURES


def canonical(data: Any) -> bytes:
    """The bytes a signature covers: JSON, sorted keys, no spaces, UTF-8."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


# ------------------------------------------------------------------ keys


def _headers(name: str, person_id: str) -> str:
    return f"xkaohe-name: {name}\nxkaohe-person-id: {person_id}\n"


def public_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def key_fingerprint(pem: str) -> str:
    """Short SHA-256 of a public key's PEM text: how a person reads out their key."""
    return hashlib.sha256(pem.strip().encode("ascii")).hexdigest()[:16]


def write_key_pair(out: Path, name: str, person_id: str, passphrase: bytes) -> tuple[Path, str]:
    """A new Ed25519 pair: ``out`` (encrypted private key) and ``out.pub``; refuse to overwrite.

    Returns
    -------
    tuple[Path, str]
        The public key file and the public key's PEM text.
    """
    if not passphrase:
        raise InputError(
            Problem(PASSPHRASE_ENV, None, None, "a non-empty passphrase", "an empty one")
        )
    pub_path = out.with_name(out.name + ".pub")
    for path in (out, pub_path):
        if path.exists():
            raise InputError(
                Problem(str(path), None, None, "a new file (keys are never overwritten)", "a file")
            )
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase),
    ).decode("ascii")
    pem = public_pem(key.public_key())
    header = _headers(name, person_id)
    with atomic_path(out) as tmp:  # created readable by its holder only, then renamed
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(header + private)
    write_text(pub_path, header + pem)
    return pub_path, pem


def _split(path: Path) -> tuple[dict[str, str], bytes]:
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError, UnicodeDecodeError):
        raise InputError(Problem(str(path), None, None, "a key file", "no readable file")) from None
    head: dict[str, str] = {}
    lines = text.splitlines()
    for line in lines:
        m = _HEADER.match(line)
        if m:
            head[m.group(1)] = m.group(2).strip()
    start = text.find("-----BEGIN")
    if start < 0 or "name" not in head or "person-id" not in head:
        raise InputError(
            Problem(
                str(path),
                None,
                None,
                "a key file written by xkaohe keys (name and person id, then a PEM block)",
                "something else",
            )
        )
    return head, text[start:].encode("ascii", errors="replace")


def load_private_key(path: Path, passphrase: bytes) -> tuple[Ed25519PrivateKey, str, str]:
    """The private key of ``path`` and its holder's name and person id.

    Raises
    ------
    InputError
        A wrong passphrase or a file that is not such a key.
    """
    head, block = _split(path)
    try:
        key = serialization.load_pem_private_key(block, passphrase)
    except (ValueError, TypeError):
        raise InputError(
            Problem(
                str(path), None, None, "the key's passphrase", "a passphrase that does not open it"
            )
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError(Problem(str(path), None, None, "an Ed25519 key", type(key).__name__))
    return key, head["name"], head["person-id"]


def load_public_key(path: Path) -> tuple[str, str, str]:
    """``(pem, name, person_id)`` of a ``.pub`` file."""
    head, block = _split(path)
    try:
        key = serialization.load_pem_public_key(block)
    except ValueError:
        raise InputError(Problem(str(path), None, None, "a PEM public key", "bad PEM")) from None
    if not isinstance(key, Ed25519PublicKey):
        raise InputError(Problem(str(path), None, None, "an Ed25519 key", type(key).__name__))
    return public_pem(key), head["name"], head["person-id"]


def sign(key: Ed25519PrivateKey, payload: dict[str, Any]) -> str:
    """Base64 Ed25519 signature of :func:`canonical` ``payload``."""
    return base64.b64encode(key.sign(canonical(payload))).decode("ascii")


def signature_valid(pem: str, payload: dict[str, Any], signature: str) -> bool:
    """Whether ``signature`` is the key's signature of ``payload`` (False on any damage)."""
    try:
        key = serialization.load_pem_public_key(pem.encode("ascii"))
        if not isinstance(key, Ed25519PublicKey):
            return False
        key.verify(base64.b64decode(signature, validate=True), canonical(payload))
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


# ------------------------------------------------------------------ the run's records


def _read_object(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    data = read_json(path)
    if not isinstance(data, dict):
        raise InputError(Problem(str(path), None, None, "a JSON object", type(data).__name__))
    return data


def read_key_registry(run: Path) -> dict[str, dict[str, str]]:
    """Registered public keys: person id -> ``{name, public_key, fingerprint, registered}``."""
    return {str(k): dict(v) for k, v in _read_object(signatures_dir(run) / KEYS).items()}


def register_key(run: Path, person_id: str, entry: dict[str, str]) -> None:
    """Add a person's public key to the run; a different key for them is refused."""
    known = read_key_registry(run)
    old = known.get(person_id)
    if old is not None and old["public_key"] != entry["public_key"]:
        raise InputError(
            Problem(
                str(signatures_dir(run) / KEYS),
                None,
                person_id,
                "one key per person (a lost key is revoked by the office, by hand)",
                f"a second key, fingerprint {entry['fingerprint']}",
            )
        )
    known[person_id] = entry
    write_json(signatures_dir(run) / KEYS, known)


def read_report_list(run: Path) -> dict[str, dict[str, Any]]:
    """The run's team reports: stem -> ``{kind, city, county_codes, title}``."""
    return {str(k): dict(v) for k, v in _read_object(signatures_dir(run) / REPORTS).items()}


def write_report_list(run: Path, reports: dict[str, dict[str, Any]]) -> None:
    write_json(signatures_dir(run) / REPORTS, reports)


def _signature_path(run: Path, stem: str) -> Path:
    if not _STEM.match(stem) or stem.startswith("."):
        raise InputError(Problem("--report", None, None, "a report stem", repr(stem)))
    return signatures_dir(run) / f"{stem}.json"


def read_signatures(run: Path, stem: str) -> list[dict[str, Any]]:
    """The signature entries of one report (empty when unsigned)."""
    path = _signature_path(run, stem)
    data = _read_object(path)
    entries = data.get("signatures", [])
    if not isinstance(entries, list):
        raise InputError(Problem(str(path), None, "signatures", "a list", type(entries).__name__))
    return [dict(e) for e in entries]


def write_signatures(run: Path, stem: str, entries: list[dict[str, Any]]) -> Path:
    path = _signature_path(run, stem)
    write_json(path, {"report": stem, "signatures": entries})
    return path


def signed_stems(run: Path) -> list[str]:
    """Stems that have a signature file."""
    d = signatures_dir(run)
    skip = {KEYS, REPORTS}
    return sorted(p.stem for p in d.glob("*.json") if p.name not in skip) if d.is_dir() else []


def report_html(run: Path, stem: str) -> Path:
    return run / "reports" / f"{stem}.html"


def html_digest(run: Path, stem: str) -> str | None:
    """SHA-256 of a rendered report; None when it is not there."""
    path = report_html(run, stem)
    return sha256_file(path) if path.is_file() else None


def results_digest(
    run: Path, county_codes: list[str], city: str | None, cache: dict[Path, Any] | None = None
) -> str:
    """SHA-256 over the slice digests of every table a team report reads.

    ``cache``: shared across the reports of one run (see
    :func:`xkaohe.io.fingerprints.slice_digest`): each table is then read once.
    """
    h = hashlib.sha256()
    codes = tuple(county_codes)
    for path in input_tables(run, TEAM_REPORT_INPUTS):
        h.update(f"{path.parent.name}/{path.name}".encode())
        h.update(slice_digest(path, codes, city, cache).encode())
    return h.hexdigest()


# ------------------------------------------------------------------ release record


def release_path(run: Path) -> Path:
    return run / "feedback" / RELEASES


def read_releases(run: Path) -> list[dict[str, Any]]:
    """Release entries in order; a broken chain or line is an InputError naming the line."""
    path = release_path(run)
    if not path.exists():
        return []
    out: list[dict[str, Any]] = []
    previous = ""
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(Problem(str(path), i, None, "a JSON object", exc.msg)) from None
        if not isinstance(entry, dict) or entry.get("previous") != previous:
            raise InputError(
                Problem(
                    str(path),
                    i,
                    "previous",
                    f"the SHA-256 of line {i - 1}" if i > 1 else "an empty link",
                    "a different value: the release record was edited",
                )
            )
        previous = hashlib.sha256(line.encode("utf-8")).hexdigest()
        out.append(entry)
    return out


def append_release(run: Path, entry: dict[str, Any]) -> dict[str, Any]:
    """Append one release entry, chained to the last line; returns the entry as written.

    The record is rewritten whole through the atomic writer, so a reader (or a
    crash) never sees half a line; its content only ever grows.
    """
    path = release_path(run)
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    read_releases(run)  # refuse to extend a damaged record
    lines = text.splitlines()
    previous = hashlib.sha256(lines[-1].encode("utf-8")).hexdigest() if lines else ""
    written = {**entry, "previous": previous}
    line = json.dumps(written, ensure_ascii=False, sort_keys=True)
    write_text(path, "".join(f"{x}\n" for x in lines) + line + "\n")
    return written


def tree_digests(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under ``folder`` (relative POSIX paths), sorted."""
    return {
        p.relative_to(folder).as_posix(): sha256_file(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


__all__ = [
    "ALGORITHM",
    "PASSPHRASE_ENV",
    "append_release",
    "canonical",
    "html_digest",
    "key_fingerprint",
    "load_private_key",
    "load_public_key",
    "read_key_registry",
    "read_releases",
    "read_report_list",
    "read_signatures",
    "register_key",
    "release_path",
    "report_html",
    "results_digest",
    "sign",
    "signature_valid",
    "signatures_dir",
    "signed_stems",
    "tree_digests",
    "write_key_pair",
    "write_report_list",
    "write_signatures",
]
