"""The ground floor: what every other floor uses and which knows no hub, no network and no screen.

* ``errors``: zoofind's error kinds, their exit codes (``ExitCode``) and the one table that
  turns an exception into a message and a hint (``describe``).
* ``context``: ``Context``, one call's settings (environment, offline, timeouts, cancel).
* ``paths``: where zoofind's own files live (platformdirs, ``ZOOFIND_CACHE_DIR``).
* ``atomic``: write to a temporary file, then rename: nothing half-written is ever seen.
* ``safetext``: text from outside made safe for a terminal, TSV and JSON.
* ``redaction``: secrets taken out of URLs and messages before they are shown or stored.
* ``units``: sizes, counts and ages, parsed and shown.
* ``tomlread``: ``tomllib`` or its backport.
* ``version``: ``__version__``, a leaf (the wheel's version is read from it).
"""
