"""``Store``: one bucket and folder of an S3-compatible store, through obstore.

obstore (the Python face of the Rust ``object_store`` crate) signs and sends the requests,
retries what is transient, and uploads large objects in parallel parts; zoofind chose it by
measurement (README, "Dependencies"). Every call goes through ``Store`` so that every error
becomes one of zoofind's, naming the bucket and key and never a secret.
"""

from __future__ import annotations

import contextlib
import datetime
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import obstore
from obstore.exceptions import (
    AlreadyExistsError,
    PermissionDeniedError,
    PreconditionError,
    UnauthenticatedError,
)
from obstore.exceptions import (
    NotFoundError as ObjectNotFound,
)
from obstore.store import S3Store

from ..core.errors import AccessDeniedError, NotFoundError, ZoofindError
from ..core.version import __version__
from .config import S3Settings, settings
from .url import StoreUrl

#: Objects larger than this go up in parallel parts of this size (S3 allows 10,000 parts: 160 GB).
PART = 16 * 1024 * 1024
#: Parts of one object in flight at once.
PART_CONCURRENCY = 4
#: The largest object read whole into memory (a manifest).
WHOLE_MAX = 64 * 1024 * 1024
# A store that stops answering is given this long (retries with backoff included) before
# the call fails: a node job should fail fast and be run again, not hang.
_RETRY = {"max_retries": 3, "retry_timeout": datetime.timedelta(seconds=20),
          "backoff": {"init_backoff": datetime.timedelta(milliseconds=100),
                      "max_backoff": datetime.timedelta(seconds=4), "base": 2}}
_VERB = {"reading": "read", "writing": "write", "listing": "list"}
_CODE = re.compile(r"<Code>([A-Za-z]+)</Code>")
_REASON = re.compile(r"(status code: \d+[^:<\n]*|HTTP error: [^\n]*|error sending request[^\n]*)")


class StoreError(ZoofindError):
    """The store did not answer, or answered with an error that is neither "denied" nor
    "not found": exit 1, and running the command again finishes what is left."""


class StoreDeniedError(AccessDeniedError):
    """The store refused the keys or the action (exit 4)."""


class Store:
    """One bucket and folder; ``settings`` from the environment the AWS way (``store.config``)."""

    def __init__(self, url: StoreUrl, env: Mapping[str, str], *, conf: S3Settings | None = None) -> None:
        self.url = url
        self.conf = conf or settings(env)
        c = self.conf
        options: dict[str, Any] = {"connect_timeout": "5s", "timeout": "300s",
                                   "user_agent": f"zoofind/{__version__}", "pool_max_idle_per_host": "32"}
        if c.endpoint and c.endpoint.lower().startswith("http://"):
            options["allow_http"] = True
        keys: dict[str, Any] = {}
        if c.access_key_id and c.secret_access_key:
            keys = {"access_key_id": c.access_key_id, "secret_access_key": c.secret_access_key}
            if c.session_token:
                keys["token"] = c.session_token
        if c.endpoint:
            keys["endpoint"] = c.endpoint
        self._s3 = S3Store(url.bucket, region=c.region, virtual_hosted_style_request=not c.path_style,
                           client_options=options, retry_config=_RETRY, **keys)  # type: ignore[arg-type]

    # -- errors --------------------------------------------------------------------------------
    def where(self) -> str:
        return f"the store at {self.conf.endpoint}" if self.conf.endpoint else f"S3 (region {self.conf.region})"

    @contextlib.contextmanager
    def calling(self, action: str, key: str | None) -> Iterator[None]:
        """Run one store call; its errors as zoofind's, naming ``action`` and the object."""
        what = self.url.show(key)
        try:
            yield
        except (PermissionDeniedError, UnauthenticatedError) as exc:
            code = _CODE.search(str(exc))
            why = f" ({code[1]})" if code else ""
            keys = self.conf.keys_from or "no keys found (AWS_ACCESS_KEY_ID, AWS_PROFILE, ~/.aws/credentials)"
            raise StoreDeniedError(
                f"{what}: {self.where()} denied {action}{why}, with the keys from {keys}",
                hint=f"check that these keys may {_VERB.get(action, action)} in bucket {self.url.bucket}, "
                     "or use others (AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)") from None
        except (ObjectNotFound, FileNotFoundError):  # obstore raises the builtin for a 404
            raise NotFoundError(f"{what}: no such object in {self.where()}",
                                hint="check the address (s3://BUCKET/PREFIX/) and AWS_ENDPOINT_URL_S3") from None
        except (AlreadyExistsError, PreconditionError):
            raise
        except obstore.exceptions.BaseError as exc:
            raise self.failed(action, key, exc) from None

    def failed(self, action: str, key: str | None, exc: BaseException) -> StoreError:
        text = str(exc)
        reason = _CODE.search(text) or _REASON.search(text)
        why = reason[1] if reason else type(exc).__name__
        return StoreError(f"{self.url.show(key)}: {action} failed: {self.where()} answered {why!r}",
                          hint="check that the store is up and AWS_ENDPOINT_URL_S3 names it; run the command "
                               "again: what was done stays done")

    # -- reading -------------------------------------------------------------------------------
    def sizes(self, prefix: str) -> dict[str, int]:
        """Every object under ``prefix`` (a key prefix in the bucket) and its size, in one listing."""
        out: dict[str, int] = {}
        with self.calling("listing", prefix):
            for page in obstore.list(self._s3, prefix=prefix, chunk_size=1000):
                for meta in page:
                    out[meta["path"]] = meta["size"]
        return out

    def size(self, key: str) -> int | None:
        """The object's size; None when there is no such object."""
        try:
            with self.calling("reading", key):
                return int(obstore.head(self._s3, key)["size"])
        except NotFoundError:
            return None

    def read(self, key: str) -> bytes:
        """A small object (a manifest), whole; ``NotFoundError`` (exit 3) when it is not there."""
        with self.calling("reading", key):
            got = obstore.get(self._s3, key)
            size = got.meta["size"]
            if size > WHOLE_MAX:
                raise StoreError(f"{self.url.show(key)} is {size} bytes; zoofind writes far smaller manifests")
            return bytes(got.bytes())

    def read_range(self, key: str, start: int, end: int) -> obstore.Bytes:
        """Bytes ``start`` to ``end`` (exclusive) of an object; a store may give fewer (a shorter object)."""
        with self.calling("reading", key):
            return obstore.get_range(self._s3, key, start=start, end=end)

    # -- writing -------------------------------------------------------------------------------
    def write(self, key: str, data: bytes) -> None:
        """One object in one request: it appears whole or not at all."""
        with self.calling("writing", key):
            obstore.put(self._s3, key, data, use_multipart=False)

    def upload(self, key: str, chunks: Iterable[bytes | memoryview], size: int) -> None:
        """A large object in parallel parts; it appears only when the last part is in and the
        chunks' iterator has ended without raising (an iterator that raises, such as a hash
        check that fails, aborts the upload and nothing appears)."""
        with self.calling("writing", key):
            obstore.put(self._s3, key, iter(chunks), use_multipart=size > PART, chunk_size=PART,
                        max_concurrency=PART_CONCURRENCY)
