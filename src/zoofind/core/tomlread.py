"""The TOML reader: ``tomllib`` on Python 3.11 and later, ``tomli`` on 3.10 (the package tomllib was
made from: the same API and messages; a dependency there). Import it from here, never ``tomllib``
directly, or reading a lock, a bundle or a catalog fails on 3.10.

``loads`` reads large files (user catalogs of tens of thousands of entries) with rtoml, a Rust
parser, where it is installed: measured on a 32k-entry catalog it parses in a sixth of tomllib's
time (README "Dependencies"); the values are the same.
"""

import sys
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

__all__ = ["loads", "tomllib"]


def loads(text: str) -> dict[str, Any]:
    """``tomllib.loads(text)``'s value, parsed by rtoml where it is installed. Text rtoml refuses is
    read by tomllib again: a broken file's error is tomllib's own (its message names line and
    column), and a file only rtoml would refuse is still read."""
    try:
        import rtoml  # lazy: a compiled extension, needed only for a catalog file, never at start-up
    except ImportError:  # a platform without its wheel: tomllib alone
        return tomllib.loads(text)
    try:
        value: dict[str, Any] = rtoml.loads(text)
    except ValueError:  # rtoml.TomlParsingError
        return tomllib.loads(text)
    return value
