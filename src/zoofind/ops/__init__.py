"""The operations, one module (or package) per operation, each a loop over the hubs that
have the ability it needs (``hubs.protocol``); none names a hub.

* ``find``: ``search``, one ranked list over every hub asked (``ranking`` orders it).
* ``lookup``: ``info``, one entry from the catalog or its hub.
* ``resolve``: what the user typed -> the hub id a pull or a lock acts on.
* ``pull``: plan with each hub, one fetch-engine run for all, place with each hub.
* ``lock`` and ``lockfile``: pin what a pull got; read and write lock files.
* ``inventory``: ``cache ls/verify/rm/prune/path`` over every hub's cache layout.
* ``bundle``: ``export`` and ``import`` of locked models as one folder or tar, or as objects in
  the lab's S3-compatible store (``s3://``).
* ``mirror``: that store as a read-through mirror of ``pull`` (``ZOOFIND_MIRROR``).
* ``cite`` and ``citeformats``: the references for the models a study used, written as BibTeX,
  CSL-JSON or text, and the methods paragraph; ``software``: the libraries they load with, cited.
"""
