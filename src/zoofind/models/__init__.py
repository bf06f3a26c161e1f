"""Plain typed data: the frozen records, plans and results the library exchanges.

One module per topic (``pull``: plans and results of a pull; ``lock``: lock files;
``cache``: what the framework caches hold; ``bundle``: exports and imports). Nothing here
does anything: no I/O, no imports of ``ops`` or ``hubs``, so every floor can use them.
"""
