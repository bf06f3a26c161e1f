"""YAML a server sends (bioimage.io's ``rdf.yaml``, a repository's ``CITATION.cff``), read safely.

PyYAML's safe loader (a dependency of huggingface_hub, which zoofind depends on) refusing aliases:
an alias bomb is a few hundred bytes. PyYAML is imported on first use only (~15 ms): off the
search and sources start-ups.
"""

from __future__ import annotations

from typing import Any


class YAMLProblem(ValueError):
    """The text is not YAML zoofind reads (syntax, an alias, nesting too deep)."""


class _Loader:
    """PyYAML's SafeLoader without aliases (made on first use)."""

    cls: Any = None

    @classmethod
    def get(cls) -> Any:
        if cls.cls is None:
            # lazy: PyYAML (~15 ms) only for a document read: off search and sources start-up
            import yaml  # type: ignore[import-untyped]  # PyYAML ships no types; its stubs are not a dependency

            class NoAliases(yaml.SafeLoader):
                def compose_node(self, parent: Any, index: Any) -> Any:
                    if self.check_event(yaml.AliasEvent):
                        raise yaml.YAMLError("aliases are not accepted")
                    return super().compose_node(parent, index)

            cls.cls = NoAliases
        return cls.cls


def safe_load(text: bytes | str) -> Any:
    """The document's data; ``YAMLProblem`` (its first line says why) when it is not readable YAML."""
    import yaml  # lazy: PyYAML (~15 ms) only for a document read: off search and sources start-up

    try:
        return yaml.load(text, Loader=_Loader.get())  # noqa: S506 - a SafeLoader subclass without aliases
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        raise YAMLProblem(str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__) from None
