"""The transfer engine ``pull`` stands on: how bytes get from a server to a verified file.

* ``engine``: one scheduler for every hub. Several files at once, large files split into
  byte ranges over several connections, resume across runs, retries, progress events.
* ``partial``: the partial file and its state (which byte ranges are on disk), kept
  beside the target so the next run continues where this one stopped.
* ``integrity``: what a file must be (size, SHA-256, git blob SHA-1, torch.hub's hash
  prefix) and the check that runs before anything becomes visible.
* ``locks``: one process per target at a time, with locks that work where ``flock``
  does not (NFS, Lustre, GPFS), and that a killed process never holds forever.
* ``archive``: archives checked whole (members, sizes, links) and unpacked with ``tarfile``'s
  data filter into a temporary folder, for every hub that ships archives.

Where the files go (each framework's own cache layout) is each hub's; which files
a model needs is its source's answer. Nothing here prints.
"""
