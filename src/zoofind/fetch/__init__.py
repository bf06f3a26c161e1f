"""The transfer engine ``pull`` stands on: how bytes get from a server to a verified file.

* ``scheduler``: the engine (``Engine``), one for every hub: a queue of units over ``jobs``
  worker threads, each file's lock and local source, the check and rename at its end,
  progress events, Ctrl-C.
* ``transfer``: one file's bytes: its plan from the partial, byte ranges over several
  connections when one stream is slow, retries, resume, hashing behind the writers.
* ``connection``: the run's HTTP client and one GET (redirects by hand, the token only to its
  host, what a refused answer means); ``job``: one file's state that those share.
* ``partial``: the partial file and its state (which byte ranges are on disk), kept
  beside the target so the next run continues where this one stopped.
* ``integrity``: the check that runs before anything becomes visible, against what a file must
  be (``models.transfer.Expected``: size, SHA-256, git blob SHA-1, MD5, torch.hub's hash prefix).

What a caller hands the engine and gets back (``Download``, ``Fetched``, ``ProgressEvent``, the
``LocalSource`` tried before the network) is plain data in ``models.transfer``: planning,
rendering and the protocol use it without loading the engine.
* ``locks``: one process per target at a time, with locks that work where ``flock``
  does not (NFS, Lustre, GPFS), and that a killed process never holds forever.
* ``archive``: archives checked whole (members, sizes, links) and unpacked with ``tarfile``'s
  data filter into a temporary folder, for every hub that ships archives.

Where the files go (each framework's own cache layout) is each hub's; which files
a model needs is its source's answer; where a copy may already be (the shared tier) is the
caller's (``ops.pull`` gives the engine its ``LocalSource``). Nothing here imports a higher
floor or prints.
"""
