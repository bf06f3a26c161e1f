"""TLS for the local servers: a test CA (trustme) that a child zoofind trusts through
``SSL_CERT_FILE``, as users point it at a lab's CA, and a running server's socket wrapped in a
certificate it issued for 127.0.0.1 and localhost."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any, TypeVar

S = TypeVar("S")


def make_ca(folder: Path) -> tuple[Any, Path]:
    """A fresh CA and the path of its certificate (PEM), for ``SSL_CERT_FILE``."""
    import trustme

    ca = trustme.CA()
    pem = folder / "ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    return ca, pem


def https(srv: S, ca: Any) -> S:
    """``srv`` (a LoopbackServer, not yet started) answering TLS with a certificate ``ca`` issued."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    srv.httpd.socket = context.wrap_socket(srv.httpd.socket, server_side=True)  # type: ignore[attr-defined]
    return srv
