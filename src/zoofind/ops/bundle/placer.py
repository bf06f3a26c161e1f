"""The member loop of an import: each member's bytes into its first target, copies for the others,
each model made visible once its last file is in place; and the bound on what an import writes."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from ...core.errors import ZoofindError
from ...fetch.archive import bound, too_large
from ...fetch.integrity import Hasher, IntegrityError
from ...fetch.locks import lock_for, try_acquire
from .manifest import BundleError, Member, check_bytes, check_member, expected, file_label, member_name
from .places import Model, Slot, make_visible
from .pump import Progress, Pump, emit, fd_writer, read_fd, staged, ticker
from .readers import BundleReader, Data


class Placer:
    """The member loop: each member's bytes into its first target, copies or links for the
    others, and each model made visible once its last file is in place."""

    def __init__(self, source: BundleReader, models: list[Model], pump: Pump, progress: Progress | None,
                 wanted: Mapping[str, int], growth: Growth) -> None:
        self.source, self.models, self.pump, self.progress, self.wanted = source, models, pump, progress, wanted
        self.growth = growth
        self.placed_bytes = 0
        self.by_sha: dict[str, list[tuple[Model, Slot]]] = {}
        for state in models:
            for slot in state.slots:
                self.by_sha.setdefault(slot.file.sha256, []).append((state, slot))

    def stream(self) -> None:
        for state in self.models:
            self._finish_if_complete(state)
        seen: set[str] = set()
        for member, data in self.source.members():
            if self.source.listing is None:
                check_member(self.source.origin, member, self.wanted, seen)
            self._place_member(member, data)
        for state in self.models:
            if not state.done and state.error is None:
                missing = [s.file for s in state.slots if s.status == "needed"]
                state.error = BundleError(
                    f"{state.locked.id}: the bundle does not hold "
                    f"{', '.join(member_name(f.sha256) for f in missing[:3])} "
                    f"({missing[0].path}): it ended first",
                    hint="the bundle is incomplete or was cut short; copy it again, "
                         "or make it again with `zoofind export`")
                for slot in state.slots:
                    if slot.status == "needed":
                        slot.status = "failed"

    def _place_member(self, member: Member, data: Data) -> None:
        sha = member.sha256
        needers = [(st, sl) for st, sl in self.by_sha.get(sha, ()) if sl.status == "needed" and st.error is None]
        if not needers:
            if self.source.listing is None:
                self.pump.run(data.read, member.size, None, None, lambda n: None)  # a stream must be read past it
            return
        first_state, first = needers[0]
        label = file_label(first_state.locked.id, first.file.path)
        placed: Path | None = None
        try:
            placed = self._write(first_state, first, member, data, label)
        except IntegrityError as exc:
            for st, sl in needers:
                sl.status = "failed"
                st.error = st.error or exc
            return
        for st, sl in needers:
            if sl is not first:
                self._copy(st, sl, placed)
            self._placed(st, sl)
        for st in {id(st): st for st, _ in needers}.values():
            self._finish_if_complete(st)

    def _placed(self, state: Model, slot: Slot) -> None:
        slot.status = "replaced" if slot.file.path in state.repaired else "placed"

    @contextlib.contextmanager
    def _locked(self, slot: Slot, label: str) -> Iterator[None]:
        if slot.place.guard is None:
            yield
            return


        lock = lock_for(slot.place.guard)
        if not try_acquire(lock):
            emit(self.progress, label, "wait", 0, slot.file.size)
            lock.acquire()
        try:
            yield
        finally:
            lock.release()

    def _write(self, state: Model, slot: Slot, member: Member, data: Data, label: str) -> Path:
        final = slot.place.target
        f = slot.file
        for folder in state.placement.folders:
            folder.mkdir(parents=True, exist_ok=True)
        with self._locked(slot, label):
            if f.path not in state.repaired and same_size(final, f.size):
                # Another process (a pull, an import) placed it while this one waited.
                if self.source.listing is None:
                    self.pump.run(data.read, member.size, None, None, lambda n: None)
                return final
            emit(self.progress, label, "start", 0, f.size)
            h = Hasher(expected(f), f.size)
            try:
                with staged(final) as fd:
                    tick = ticker(self.progress, label, f.size)
                    if data.fd is not None:
                        self.growth.spend(member.size)
                        n = self.pump.copy(data.fd, data.at, fd, 0, member.size, h, tick)
                    else:
                        n = self.pump.run(data.read, member.size, h, self.growth.writer(fd_writer(fd)), tick)
                    if n != member.size:
                        raise BundleError(f"{self.source.origin}: the bundle ends inside {member.name} (truncated)",
                                          hint="copy the bundle again")
                    check_bytes(h, f, f"{state.locked.id}: {f.path} (bundle member {member.name})",
                                "the bundle's bytes")
            except BaseException:
                emit(self.progress, label, "failed", 0, f.size)
                raise
            emit(self.progress, label, "done", n, f.size)
            self.placed_bytes += n
        return final

    def _copy(self, state: Model, slot: Slot, src: Path) -> None:
        """Another target of the same bytes: a copy of the verified file (in the kernel where it can)."""
        final = slot.place.target
        if final == src:
            return
        self.growth.spend(slot.file.size)
        with self._locked(slot, file_label(state.locked.id, slot.file.path)), staged(final) as fd, read_fd(src) as s:
            self.pump.copy(s, 0, fd, 0, slot.file.size, None, lambda n: None)

    def _finish_if_complete(self, state: Model) -> None:
        if state.done or state.error is not None or any(s.status == "needed" for s in state.slots):
            return
        try:
            make_visible(state)
        except (OSError, ZoofindError) as exc:
            state.error = exc
            return
        state.done = True


def same_size(path: Path, size: int) -> bool:
    try:
        return path.stat().st_size == size
    except OSError:
        return False




class Growth:
    """What an import writes against the bundle's own bytes (``fetch.archive.bound``).

    A compressed bundle may inflate like any archive: it is bound as one (``ZOOFIND_MAX_EXTRACT``
    sets the bound). A plain tar or folder writes what it holds, more only where its manifest
    lists one member for several files: it gets the default bound against that, which
    ``ZOOFIND_MAX_EXTRACT`` may raise but not lower (the bytes are in the bundle already).
    A bundle of known size is checked whole before anything is written; one on stdin as it is
    read, against what has been read so far.
    """

    def __init__(self, source: BundleReader, limit: int | None) -> None:
        self.source, self.limit, self.written = source, limit, 0

    def _most(self, size: int) -> int:
        if self.source.compressed:
            return bound(size, self.limit)
        return max(bound(size), self.limit or 0)

    def _refuse(self, size: int, expands: int | None, read: str, done: str) -> BundleError:
        message, hint = too_large(self.source.origin, size, self.limit, expands, most=self._most(size), read=read,
                                  kind="bundle", done=done)
        return BundleError(message, hint=hint)

    def check(self, total: int) -> None:
        """Before anything is written: ``total`` bytes, the manifest's files, against a bundle of known size."""
        size = self.source.size
        if size is not None and total > self._most(size):
            raise self._refuse(size, total, "", "nothing was written")

    def spend(self, n: int) -> None:
        """``n`` more bytes are about to be written."""
        self.written += n
        if self.source.size is None and self.written > self._most(read := self.source.consumed()):
            raise self._refuse(read, None, " read so far",
                               "nothing more is written; the model being placed was removed")

    def writer(self, write: Callable[[memoryview], None]) -> Callable[[memoryview], None]:
        def checked(chunk: memoryview) -> None:
            self.spend(len(chunk))
            write(chunk)
        return checked


