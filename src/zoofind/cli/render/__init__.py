"""The only code that writes to the terminal: typed results in, text or versioned JSON out.

* ``output``: ``Environment`` (the streams, the terminal, colour) and the shared formats
  (table, json, jsonl, tsv, ids), and the search results.
* ``listing``: ``info``, ``list-frameworks`` and ``sources``.
* ``pull``: progress bars and pull results.
* ``cache``: ``cache ls/verify/rm/prune/path``.
* ``bundle``: ``export`` and ``import``.
"""
