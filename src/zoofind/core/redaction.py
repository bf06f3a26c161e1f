"""Secrets kept out of everything zoofind shows or stores.

* ``redact_url``: a URL as it may be shown: credentials in it (``http://user:pw@host``,
  from an endpoint variable such as ``HF_ENDPOINT``) become ``***`` (``http://***@host``),
  and so do the values of query parameters whose names say they are secrets (tokens,
  keys, signatures of pre-signed storage URLs).
* ``redact_text``: every URL inside a text (an error message, a probe's answer) redacted.
* ``keyed_url``: a URL as it may be stored in a cache key: its credentials replaced by
  their ``fingerprint``, so answers fetched as one account are never served to another
  and the secret never reaches the disk.
* ``fingerprint``: which secret, without the secret (16 hex digits of SHA-256).

Pure string work with regular expressions (no URL parser that could raise on a malformed
address): this module is imported on paths that must stay cheap.
"""

from __future__ import annotations

import re

MASK = "***"

#: scheme://userinfo@ : the userinfo runs to the last "@" before the path, query or fragment.
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/?#\s]*@)")
#: A query parameter (name=value) inside a URL.
_PARAM = re.compile(r"([?&;])([^=&#;\s]+)=([^&#;\s]*)")
#: Parameter names whose values are secrets: tokens, keys, passwords, signatures.
_SECRET_NAME = re.compile(r"(?i)token|secret|passw|pwd|signature|credential|api[-_]?key|access[-_]?key|^key$|^sig$"
                          r"|^auth(?:orization)?$")
#: URLs inside free text.
_URL_IN_TEXT = re.compile(r"(?i)\b[a-z][a-z0-9+.-]*://[^\s'\"<>()\[\]]+")


def redact_url(url: str) -> str:
    """``url`` with its credentials and secret query values replaced by ``***``."""
    if "://" not in url:
        return url
    out = _USERINFO.sub(lambda m: f"{m[1]}{MASK}@", url)
    if "?" in out:
        out = _PARAM.sub(lambda m: f"{m[1]}{m[2]}={MASK}" if _SECRET_NAME.search(m[2]) else m[0], out)
    return out


def redact_text(text: str) -> str:
    """``text`` with every URL in it redacted (``redact_url``)."""
    if "://" not in text:
        return text
    return _URL_IN_TEXT.sub(lambda m: redact_url(m[0]), text)


def keyed_url(url: str) -> str:
    """``url`` for a cache key: credentials replaced by their fingerprint (same account, same key)."""
    if "://" not in url or "@" not in url:
        return url
    return _USERINFO.sub(lambda m: f"{m[1]}fp-{fingerprint(m[2][:-1])}@", url)


def fingerprint(secret: str) -> str:
    """Which secret (a token, a credential header), without the secret: for cache keys."""
    # lazy: hashlib (~4 ms) only when a credential is in play: not on info, cite or pull --offline start-up
    import hashlib

    return hashlib.sha256(secret.encode()).hexdigest()[:16]
