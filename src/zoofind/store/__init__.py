"""The lab's object store: an S3-compatible bucket (AWS S3, MinIO, Ceph RGW, SeaweedFS) that
holds published bundles and serves as a read-through mirror of the hubs.

* ``url``: ``s3://bucket/prefix/`` (a bundle's folder: ``zoofind-bundle.toml`` plus
  ``blobs/<sha256>``) or ``s3://bucket/prefix/NAME.toml`` (a named manifest beside the same
  ``blobs/``), parsed without importing any client.
* ``config``: credentials, region, endpoint and addressing style resolved the AWS way
  (``AWS_ACCESS_KEY_ID``..., ``AWS_PROFILE`` with the shared ``config`` and ``credentials``
  files, ``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL``), as plain data, never shown.
* ``s3``: ``Store``, the one place that talks to the store (through obstore, the optional
  ``zoofind[s3]`` extra), turning its errors into zoofind's: denied is exit 4 with the bucket
  and key, an object that is not there exit 3, a store that does not answer exit 1.
* ``ranged``: parallel ranged reads of a run of objects, handed out in order as readers.

The store only moves bytes: what they must be (size, sha256, git blob id) is checked by the
operations that call it (``ops.bundle``, ``ops.pull``), exactly as for bytes from a hub.
Only ``s3`` and ``ranged`` import obstore, and only operations given an ``s3://`` address
import them.
"""
