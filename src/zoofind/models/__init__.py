"""Plain typed data: the frozen records, plans and results the library exchanges.

One module per topic (``records``: search results and parsed ids; ``files``: a model's files
as its hub lists them; ``transfer``: what the fetch engine is handed and gives back; ``pull``:
plans and results of a pull; ``lock``: lock files; ``cache``: what the framework caches hold;
``bundle``: exports and imports; ``cite``: references). Nothing here
does anything: no I/O, no imports of ``ops`` or ``hubs``, so every floor can use them.
"""
