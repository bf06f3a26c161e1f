"""Each model's place on this machine, asked of its hub's bundle ability (``hubs.protocol.Bundles``),
and an import's state per model: which files are needed, present or placed, and the result."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from ...core.errors import describe
from ...core.paths import inside_home
from ...fetch.integrity import Hasher, IntegrityError
from ...hubs import registry
from ...hubs.protocol import Bundles
from ...models.bundle import BundledFile, BundledModel, FileSlot, Placement
from ...models.lock import LockedFile, LockedModel
from .manifest import BundleError, check_bytes, expected, file_label, member_name
from .pump import Progress, Pump, emit, read_fd, ticker


def bundles(model: LockedModel) -> Bundles:
    """The bundle ability of the model's hub (``manifest.check_lock`` made sure it has one)."""
    return registry.ability(model.source, "bundle")


@dataclass
class Slot:
    """One locked file of one model during an import: its place and whether its bytes are there."""

    place: FileSlot
    status: str = "needed"  # needed | present | verified | placed | replaced | failed

    @property
    def file(self) -> LockedFile:
        return self.place.file


@dataclass
class Model:
    """One model during an import (this process's own state; the hub's answer is ``placement``)."""

    placement: Placement
    slots: list[Slot]
    notes: list[str] = field(default_factory=list)
    error: BaseException | None = None
    done: bool = False
    repaired: set[str] = field(default_factory=set)

    @property
    def locked(self) -> LockedModel:
        return self.placement.model

    @property
    def path(self) -> Path:
        return self.placement.path


def plan_model(m: LockedModel, env: Mapping[str, str]) -> Model:
    hub = bundles(m)
    root = inside_home(hub.roots(env, shared=False)[0], env)
    placement = hub.placement(m, root, env)
    return Model(placement, [Slot(s) for s in placement.slots], list(placement.notes))


def existing(slot: Slot) -> Path | None:
    """The file already in place for a slot (what the framework reads), if any, with the right size."""
    for c in slot.place.present_at:
        try:
            if c.stat().st_size == slot.file.size:
                return c
        except OSError:
            continue
    return None


def check_present(state: Model, pump: Pump, verify_existing: bool, progress: Progress | None) -> None:
    """Mark the files already in place (size; with ``verify_existing`` re-hashed)."""
    m = state.locked
    if not bundles(m).in_place(state.placement):
        return
    bad: list[str] = []
    for slot in state.slots:
        there = existing(slot)
        if there is None:
            bad.append(f"{slot.file.path}: missing or another size")
            continue
        if not verify_existing:
            slot.status = "present"
            continue
        label = file_label(m.id, slot.file.path)
        h = Hasher(expected(slot.file), slot.file.size)
        emit(progress, label, "start", 0, slot.file.size)
        with read_fd(there) as fd:
            pump.hash(fd, slot.file.size, h, ticker(progress, label, slot.file.size))
        emit(progress, label, "done", slot.file.size, slot.file.size)
        try:
            check_bytes(h, slot.file, f"{m.id}: {slot.file.path} ({there})", "the bytes in place")
            slot.status = "verified"
        except IntegrityError:
            bad.append(f"{slot.file.path}: its bytes differ from the bundle's")
            state.repaired.add(slot.file.path)
    if state.placement.staging is not None and bad:
        # A model placed whole is never repaired file by file: the folder is someone's, as it is.
        state.error = BundleError(
            f"{m.id}: the model folder {state.path} is here already but differs from the bundle ({'; '.join(bad[:3])})",
            hint=f"remove it with `zoofind cache rm {m.id}`, then import again",
        )
        for slot in state.slots:
            slot.status = "failed"


def make_visible(state: Model) -> None:
    """The last step of a model, its hub's: e.g. Hub snapshot links then its ref, a TF Hub folder renamed into place."""
    placed = frozenset(s.file.path for s in state.slots if s.status in ("placed", "replaced"))
    state.notes.extend(bundles(state.locked).make_visible(state.placement, placed))


def discard(state: Model) -> None:
    """A model placed whole that did not finish: its staging folder goes (nothing of it was visible)."""
    if state.placement.staging is not None and not state.done:
        shutil.rmtree(state.placement.staging, ignore_errors=True)


def result(state: Model) -> BundledModel:
    m = state.locked
    files = []
    for slot in state.slots:
        # Where the framework reads it: the snapshot path, the module's file, the checkpoint.
        where = slot.place.present_at[0]
        status = slot.status if slot.status != "needed" else "failed"
        files.append(BundledFile(slot.file.path, slot.file.size, slot.file.sha256, member_name(slot.file.sha256),
                                 status, str(where) if status != "failed" else None))
    base = BundledModel(m.id, str(state.path), m.commit, tuple(files), tuple(state.notes))
    if state.error is None:
        return base
    d = describe(state.error)
    return replace(base, error=d.message, hint=d.hint, exit_code=d.exit_code)
