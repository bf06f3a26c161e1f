"""tinyhub: a tiny third-party hub, installed by the plugin tests as pip would install one.

Its server: ``GET {endpoint}/index.json`` -> ``{"models": [{"name", "description", "files": [{"path",
"size", "sha256"}]}]}``, and each file at ``GET {endpoint}/files/<name>/<path>`` (Range supported).
Its cache: ``$TINYHUB_HOME`` (default ``~/.cache/tinyhub``), a model at ``<home>/<name>/`` with its
files at their paths inside and ``<home>/<name>/.complete`` written last (a folder without the
marker is partial, not a model). It declares its place in the shared tier (``source.PLACE``:
``tinyhub/`` in each ``ZOOFIND_SHARED_CACHE`` root), so pulls link checked files from there and
``cache ls`` lists the models there.

One module per ability: ``source`` (search, info, status), ``pull`` (pull and lock), ``cache``,
``bundle`` and ``cite`` (a model's ``citation`` in the index is its card's reference). It uses only zoofind's public plugin surface: the spec, the protocol's types,
the fetch engine's ``Download``, the shared tier's ``declare``.
"""

from __future__ import annotations

from zoofind.hubs import lazy
from zoofind.hubs.spec import SourceSpec

SPEC = SourceSpec(
    name="tinyhub",
    title="Tiny hub (a test plugin)",
    network=True,
    searches=True,
    ref_pattern=r"[a-z0-9][a-z0-9-]*",
    example="tinyhub:name",
    endpoint_variable="TINYHUB_ENDPOINT",
    default_endpoint="http://127.0.0.1:9",
)


def register(registry):
    registry.register(
        SPEC,
        lazy(f"{__name__}.source", "TinySource"),
        pull=lazy(f"{__name__}.pull", "TinyPull"),
        lock=lazy(f"{__name__}.pull", "TinyLock"),
        cache=lazy(f"{__name__}.cache", "TinyCache"),
        bundle=lazy(f"{__name__}.bundle", "TinyBundles"),
        cite=lazy(f"{__name__}.cite", "TinyCite"),
    )
