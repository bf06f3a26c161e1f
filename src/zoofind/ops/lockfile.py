"""Lock files: the exact models, revisions and bytes a study used, in TOML.

A lock pins each model to something that cannot change under it: a Hugging Face commit
sha, a torchvision checkpoint file (its name carries a hash prefix; the lock adds the
full sha256), a TF Hub handle with its archive's sha256. Every selected file is recorded
with its size and sha256, so ``zoofind pull --lock`` can refuse any byte that differs
and ``zoofind export``/``import`` can carry the set to a machine without network.

    # zoofind lock file ...
    schema = 1
    zoofind = "0.1.0"
    created = 2026-12-02T04:00:00Z

    [[models]]
    id = "hf:facebook/esm2_t6_8M_UR50D"
    revision = "main"
    commit = "c731040fbb6bf7e8a3ed1d5ea3b9e4d5c09b8c7a"

    [[models.files]]
    path = "model.safetensors"
    size = 31375696
    sha256 = "..."
    blob = "..."          # Hugging Face: the file's name in the cache's blobs/ (its ETag)

    [models.archive]      # TF Hub only: the compressed archive the files came in
    size = 1234
    sha256 = "..."

This module only reads and writes the file (``loads``/``dumps``/``read``/``write``); what
resolves models into a lock and what pulls a lock is ``ops.lock``. A file that is not a
valid lock is a ``UsageError`` naming the file and what is wrong, never a traceback.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..core.atomic import replacing
from ..core.errors import BadAnswerError, UsageError
from ..hubs import registry
from ..hubs.ids import parse_id
from ..models.lock import SCHEMA, Lock, LockedArchive, LockedFile, LockedModel

#: The name ``zoofind lock`` writes and ``pull --lock`` reads when none is given.
DEFAULT_NAME = "zoofind.lock"

_HEX64 = re.compile(r"[0-9a-f]{64}")
_BLOB = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")

HEADER = """\
# zoofind lock file: the exact models, revisions and bytes a study used.
# Reproduce them with:   zoofind pull --lock {name}
# Carry them offline:    zoofind export --lock {name} models.tar  (then: zoofind import models.tar)
# Written by zoofind; edit with care: every size and sha256 is checked against the bytes.
"""


# -- writing ---------------------------------------------------------------------------
def to_data(lock: Lock) -> dict[str, Any]:
    """The lock as plain TOML-able data (None values left out: TOML has no null)."""
    def clean(d: Mapping[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in d.items() if v is not None}

    models = []
    for m in lock.models:
        entry = clean({"id": m.id, "revision": m.revision, "commit": m.commit, "framework": m.framework,
                       "kind": m.kind if m.kind != "model" else None})
        entry["files"] = [clean({"path": f.path, "size": f.size, "sha256": f.sha256, "blob": f.blob}) for f in m.files]
        if m.archive is not None:
            entry["archive"] = {"size": m.archive.size, "sha256": m.archive.sha256}
        models.append(entry)
    created = lock.created or datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    return {"schema": lock.schema, "zoofind": lock.zoofind, "created": created, "models": models}


def dumps(lock: Lock, *, name: str = DEFAULT_NAME) -> str:
    import tomli_w  # lazy: only when a lock is written: off bundle import start-up

    return HEADER.format(name=name) + "\n" + tomli_w.dumps(to_data(lock))


def write(lock: Lock, path: Path) -> None:
    """Write atomically: a lock file is never seen half-written."""
    with replacing(path, "w") as fh:
        fh.write(dumps(lock, name=path.name))


# -- reading ---------------------------------------------------------------------------
def read(path: Path) -> Lock:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"no lock file {str(path)!r}", hint="write one with `zoofind lock ID... -o FILE`") from None
    except OSError as exc:
        raise UsageError(f"cannot read the lock file {str(path)!r}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not a lock file (not UTF-8 text at byte {exc.start})") from None
    return loads(text, origin=str(path))


def loads(text: str, *, origin: str = "<lock>") -> Lock:
    from ..core.tomlread import tomllib  # lazy: only when a lock is read: off `lock` start-up

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{origin}: not a valid lock file: {exc}", hint="write it again with `zoofind lock`") from None
    except RecursionError:
        raise UsageError(f"{origin}: not a valid lock file: nested too deeply") from None
    return _lock(data, origin)


class _Bad(Exception):
    pass


#: What a schema-1 lock holds at its top (a newer zoofind that adds a key raises the schema), and
#: ``bundle``: a bundle's manifest is itself a lock file, usable as ``pull --lock``.
_TOP_KEYS = frozenset({"schema", "zoofind", "created", "models", "bundle"})


def _lock(data: Mapping[str, Any], origin: str) -> Lock:
    schema = data.get("schema")
    if not isinstance(schema, int) or isinstance(schema, bool):
        raise UsageError(f"{origin}: not a zoofind lock file (no `schema = {SCHEMA}` line)",
                         hint="write one with `zoofind lock ID... -o FILE`")
    if schema > SCHEMA:
        raise UsageError(f"{origin}: written by a newer zoofind (lock schema {schema}; this zoofind reads {SCHEMA})",
                         hint="upgrade zoofind: pip install -U zoofind")
    if schema < 1:
        raise UsageError(f"{origin}: lock schema {schema} is not one zoofind ever wrote")
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        # A misspelt table ([[model]]) would otherwise read as a lock of no models.
        known = ", ".join(sorted(_TOP_KEYS - {"bundle"}))
        raise UsageError(f"{origin}: unknown key(s) {', '.join(map(repr, unknown))} (a lock has {known})",
                         hint="write the lock again with `zoofind lock`")
    created = data.get("created")
    if created is not None and not isinstance(created, datetime.datetime):
        created = None
    models_raw = data.get("models", [])
    if not isinstance(models_raw, list):
        raise UsageError(f"{origin}: `models` must be a list of [[models]] tables")
    models: list[LockedModel] = []
    seen: set[str] = set()
    for n, entry in enumerate(models_raw, 1):
        where = f"{origin}: model {n}"
        try:
            model = _model(entry)
        except _Bad as exc:
            raise UsageError(f"{where}: {exc}", hint="write the lock again with `zoofind lock`") from None
        if model.id in seen:
            raise UsageError(f"{where}: {model.id} is locked twice")
        seen.add(model.id)
        models.append(model)
    version = data.get("zoofind")
    return Lock(tuple(models), str(version) if isinstance(version, str) else "", created, schema, origin)


def _model(entry: Any) -> LockedModel:
    from ..caches import safe_relpath  # lazy: only once a lock is read: off a damaged bundle's import

    if not isinstance(entry, dict):
        raise _Bad("not a table")
    ident = _required_str(entry, "id")
    try:
        pid = parse_id(ident)
    except Exception as exc:  # noqa: BLE001 - any id the parser refuses is a bad lock
        raise _Bad(f"id {ident!r} is not a model id ({exc})") from None
    if not registry.can(pid.source, "lock"):
        raise _Bad(f"{ident}: {pid.source} models cannot be locked")
    ident = str(pid)
    commit = _str(entry, "commit")
    files_raw = entry.get("files", [])
    if not isinstance(files_raw, list) or not files_raw:
        raise _Bad(f"{ident}: no files")
    files: list[LockedFile] = []
    paths: set[str] = set()
    for f in files_raw:
        if not isinstance(f, dict):
            raise _Bad(f"{ident}: a file entry is not a table")
        path = _required_str(f, "path")
        try:
            safe_relpath(path, what=ident)
        except BadAnswerError:
            raise _Bad(f"{ident}: file path {path!r} would land outside the model's folder") from None
        if path in paths:
            raise _Bad(f"{ident}: {path} is listed twice")
        paths.add(path)
        blob = _str(f, "blob")
        if blob is not None and not _BLOB.fullmatch(blob):
            raise _Bad(f"{ident}: {path}: `blob` must be 40 or 64 lower-case hex digits")
        files.append(LockedFile(path, _size(f, f"{ident}: {path}"), _sha(f, f"{ident}: {path}"), blob))
    archive = None
    if (a := entry.get("archive")) is not None:
        if not isinstance(a, dict):
            raise _Bad(f"{ident}: `archive` must be a table")
        archive = LockedArchive(_size(a, f"{ident}: archive"), _sha(a, f"{ident}: archive"))
    kind = _str(entry, "kind") or "model"
    if kind not in ("model", "dataset"):
        raise _Bad(f"{ident}: `kind` must be \"model\" or \"dataset\", not {kind!r}")
    model = LockedModel(ident, _str(entry, "revision"), commit, tuple(files), archive, _str(entry, "framework"), kind)
    problem = registry.ability(pid.source, "lock").problem(model)
    if problem:
        raise _Bad(problem)
    return model


def _required_str(d: Mapping[str, Any], key: str) -> str:
    value = _str(d, key)
    if value is None:
        raise _Bad(f"`{key}` is missing")
    return value


def _str(d: Mapping[str, Any], key: str) -> str | None:
    value = d.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _Bad(f"`{key}` must be a non-empty string")
    return value.strip()


def _size(d: Mapping[str, Any], what: str) -> int:
    value = d.get("size")
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise _Bad(f"{what}: `size` must be a whole number of bytes")
    return value


def _sha(d: Mapping[str, Any], what: str) -> str:
    value = d.get("sha256")
    if not isinstance(value, str) or not _HEX64.fullmatch(value):
        raise _Bad(f"{what}: `sha256` must be 64 lower-case hex digits")
    return value
