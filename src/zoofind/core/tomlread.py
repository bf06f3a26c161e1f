"""The TOML reader: ``tomllib`` on Python 3.11 and later, ``tomli`` on 3.10 (the package tomllib was
made from: the same API and messages; a dependency there). Import it from here, never ``tomllib``
directly, or reading a lock, a bundle or a catalog fails on 3.10."""

import sys

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

__all__ = ["tomllib"]
