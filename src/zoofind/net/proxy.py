"""Which proxy a URL goes through: the environment read exactly as httpx reads it.

zoofind's HTTP/1.1 (``net.wire``) honours ``HTTP_PROXY``, ``HTTPS_PROXY``, ``ALL_PROXY`` and
``NO_PROXY`` (either case, as ``urllib.request.getproxies`` reads them) as httpx, the client most Python
tools on a cluster use (huggingface_hub's among them), does: a request goes where httpx would
have sent it, or a cluster whose proxy works for those tools would see zoofind bypass it. So the
rules are httpx's (``httpx._utils.get_environment_proxies`` and ``URLPattern``), restated here
because they are private there; tests/test_wire.py holds the two side by side:

* ``HTTP_PROXY`` for ``http://`` URLs, ``HTTPS_PROXY`` for ``https://``, ``ALL_PROXY`` for both
  (a scheme-specific one wins); a value without ``://`` is an ``http://`` proxy;
* ``NO_PROXY``: ``*`` turns every proxy off; ``.example.com`` exempts its subdomains only,
  ``example.com`` the domain and its subdomains; an IP address or ``localhost`` exactly that
  host; ``scheme://host[:port]`` that exact origin;
* the most specific rule wins: one with a port, then the longest host, then the longest scheme.
"""

from __future__ import annotations

import ipaddress
import os
import re
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    """One key of httpx's proxy mounts: which URLs it covers, and their proxy (None: none)."""

    scheme: str  # "" for all schemes
    host: str  # "" for every host
    port: int | None
    proxy: str | None

    def matches(self, scheme: str, host: str, port: int | None) -> bool:
        if self.scheme and self.scheme != scheme:
            return False
        if self.host and not _host_regex(self.host).match(host):
            return False
        return self.port is None or self.port == port

    @property
    def priority(self) -> tuple[int, int, int]:
        return (0 if self.port is not None else 1, -len(self.host), -len(self.scheme))


def _host_regex(host: str) -> re.Pattern[str]:
    if host.startswith("*."):  # *.example.com: www.example.com, not example.com
        return re.compile(f"^.+\\.{re.escape(host[2:])}$")
    if host.startswith("*"):  # *example.com: example.com and www.example.com
        return re.compile(f"^(.+\\.)?{re.escape(host[1:])}$")
    return re.compile(f"^{re.escape(host)}$")


def _is_ip(text: str, version: type[ipaddress.IPv4Address] | type[ipaddress.IPv6Address]) -> bool:
    try:
        version(text.split("/")[0])
    except ValueError:
        return False
    return True


def _rule(key: str, proxy: str | None) -> Rule:
    """A mount key ("https://", "all://*example.com", "all://[::1]", "http://host:8080") as a rule."""
    scheme, _, rest = key.partition("://")
    rest = rest.split("/", 1)[0]  # a CIDR's "/16" reads as a path, as in httpx: the address alone counts
    host, port = rest, None
    if rest.startswith("["):  # an IPv6 address, maybe with a port
        host, _, tail = rest[1:].partition("]")
        port = int(tail[1:]) if tail.startswith(":") and tail[1:].isdigit() else None
    elif rest.count(":") == 1 and rest.rsplit(":", 1)[1].isdigit():
        host, port_text = rest.rsplit(":", 1)
        port = int(port_text)
    host = host.lower()
    return Rule("" if scheme == "all" else scheme.lower(), "" if host == "*" else host, port, proxy)


def _getproxies() -> dict[str, str]:
    """``urllib.request.getproxies()``, which httpx reads. On Linux that is the environment alone,
    restated here (``getproxies_environment``: ``<scheme>_proxy`` in either case, the lower-case
    one winning, ``HTTP_PROXY`` ignored in a CGI request) because importing ``urllib.request``
    (~5 ms, with tempfile and random) is a tenth of a live search's budget; elsewhere the
    system's settings count too, so it is asked."""
    if sys.platform in ("darwin", "win32"):
        import urllib.request  # lazy: search start-up (urllib.request ~5 ms); only macOS and Windows need it

        return urllib.request.getproxies()
    proxies: dict[str, str] = {}
    for name, value in os.environ.items():
        name = name.lower()
        if value and name[-6:] == "_proxy":
            proxies[name[:-6]] = value
    if "REQUEST_METHOD" in os.environ:
        proxies.pop("http", None)
    for name, value in os.environ.items():
        if name[-6:] == "_proxy":
            if value:
                proxies[name.lower()[:-6]] = value
            else:
                proxies.pop(name.lower()[:-6], None)
    return proxies


def environment_rules() -> list[Rule]:
    """The environment's proxy rules, most specific first (httpx's mounts, sorted as it sorts them)."""
    info = _getproxies()
    mounts: dict[str, str | None] = {}
    for scheme in ("http", "https", "all"):
        if info.get(scheme):
            value = info[scheme]
            mounts[f"{scheme}://"] = value if "://" in value else f"http://{value}"
    for name in (h.strip() for h in info.get("no", "").split(",")):
        if name == "*":
            return []
        if not name:
            continue
        if "://" in name:
            mounts[name] = None
        elif _is_ip(name, ipaddress.IPv4Address):
            mounts[f"all://{name}"] = None
        elif _is_ip(name, ipaddress.IPv6Address):
            mounts[f"all://[{name}]"] = None
        elif name.lower() == "localhost":
            mounts[f"all://{name}"] = None
        else:
            mounts[f"all://*{name}"] = None
    rules = [_rule(key, proxy) for key, proxy in mounts.items()]
    return sorted(rules, key=lambda r: r.priority)  # stable, as httpx's sorted() of its mounts


def proxy_for(rules: list[Rule], scheme: str, host: str, port: int | None) -> str | None:
    """The proxy URL for a request (``port`` None: the scheme's default), or None to go direct."""
    for rule in rules:
        if rule.matches(scheme, host.lower(), port):
            return rule.proxy
    return None
