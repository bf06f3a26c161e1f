"""What a source (a hub) can do: the one place that says it, as llm's ``hookspecs`` does for llm.

A source is registered with its ``SourceSpec`` (what it is: name, id grammar, endpoint;
cheap to import) and, for each ability it has, the factory of the object implementing it::

    registry.register(SPEC, lazy("myhub.source", "MySource"),        # search: every source
                      pull=lazy("myhub.pull", "MyPull"), cache=lazy("myhub.cache", "MyCache"))

The built-ins register exactly so, through the ``zoofind.sources`` entry points a plugin
package uses. The operations are loops over the sources that have the ability they need
(``registry.able("pull")``, ``registry.ability(name, "pull")``); none names a source.

``ABILITIES`` (kept in the leaf ``abilities``: every start-up registers the hubs, and the
protocol classes below cost a millisecond to define) lists them; each ability's protocol
follows, with the typed plans and results it exchanges. Last, what a hub declares to take
part in the read-only shared tier.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from .abilities import ABILITIES  # noqa: F401 - re-exported: the list beside what each ability must do

# Types only: the plans and results the protocols exchange.
if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from ..core.context import Context
    from ..models.bundle import Placement
    from ..models.cache import CachedModel, Removal, RemovalLocks, Verified
    from ..models.cite import CardCitation
    from ..models.lock import LockedFile, LockedModel
    from ..models.pull import ModelPlan, PullOptions, PullResult
    from ..models.records import ParsedId
    from ..models.transfer import Fetched

# == pull: plan, place =============================================================
class Pulls(Protocol):
    """A hub whose models ``zoofind pull`` fetches into its framework's own cache.

    ``ops.pull`` resolves each id, asks its hub for a plan, runs ONE fetch-engine run for every
    plan's downloads, then asks each hub to place its model. It knows no layout: everything
    about where a framework looks is the hub's.
    """

    #: Whether a model outside the bundled catalog is described by asking the hub (``info``) for
    #: the result's framework and requirements; False: only the catalog's record is used.
    describes_uncurated: bool

    def plan(self, pid: ParsedId, ctx: Context, opts: PullOptions, *, revision: str | None,
             asked: str) -> ModelPlan:
        """The files of ``pid`` at ``revision`` (an exact commit in ``ModelPlan.commit`` where the hub
        has them), each with its skip reason, target, presence and ``Download``.

        With ``ctx.offline`` it makes no request: the model is answered from the caches alone (the
        user's, then the shared tier's, linked after checking), or an ``OfflineError`` says what to
        do (``asked`` is what the user typed, for that hint). ``opts.dry_run``: nothing is written.
        A failure raises a ``ZoofindError``; it becomes this model's result, the others go on.
        """
        ...

    def place(self, plan: ModelPlan, fetched: Mapping[str, Fetched], ctx: Context) -> Mapping[str, Path]:
        """Make the verified files of ``plan`` visible where the framework looks (``fetched``: each
        downloaded file's outcome, by path; called only when every download succeeded, never on a
        dry run). Nothing half-written is ever visible. Returns what the framework now sees: each
        file's path in the model -> its path on disk (what ``--dest`` links)."""
        ...


# == lock: pin, plan from a lock ===============================================================
class Locks(Protocol):
    """A hub whose pulls ``zoofind lock`` records and ``zoofind pull --lock`` reproduces."""

    def pin(self, result: PullResult) -> LockedModel:
        """The lock entry of a successful pull: every file's size and sha256 (hashed from disk
        where this run did not compute it: a lock never records a digest nobody checked)."""
        ...

    def problem(self, locked: LockedModel) -> str | None:
        """What is wrong with a lock file's entry for this hub beyond the generic checks (a Hub
        model without its commit), or None; the lock file is then refused naming it."""
        ...

    def plan_locked(self, locked: LockedModel, ctx: Context, opts: PullOptions) -> ModelPlan:
        """A pinned plan from the lock alone (no metadata request): cached files hashed against the
        lock now (a difference raises ``IntegrityError`` naming the file), missing ones downloaded
        against the lock's size and sha256; offline, a missing file is an ``OfflineError``."""
        ...

    def check_placed(self, locked: LockedModel, result: PullResult) -> None:
        """After placing: files the engine could not check against the lock one by one (extracted
        from an archive) are checked now; on a difference the placed model is taken out of the
        framework's sight and ``IntegrityError`` raised. Nothing to do: return."""
        ...


# == cache: a hub's cache layout per tier ======================================================
#: A test for "this path lies in the shared tier" (None: there is no shared tier).
InShared = Callable[[str], bool] | None


@runtime_checkable
class Caches(Protocol):
    """A hub's cache layout, as its framework lays it out, in each tier (``models.cache.TIERS``).

    ``ops.inventory`` (``cache ls/verify/rm/prune/path``) loops over the hubs that registered
    ``cache=`` and only combines what these answer; it never reads a layout itself.
    """

    def scan(self, ctx: Context, tier: str, in_shared: InShared) -> list[CachedModel]:
        """Every model the layout holds in ``tier`` (``local``: the user's own cache; ``shared``: its
        folders under each ``ZOOFIND_SHARED_CACHE`` root that is not the user's own cache, which its
        declared place gives: ``PLACE.tiered(environ, tier)``; a hub without one has none), whoever
        placed it. A half-written model (no completion marker) is not a model. ``size`` counts each
        file once and, in the local tier, not the bytes a link into the shared tier (``in_shared``)
        reaches (``linked_size``). ``last_used`` is when the model was placed or a framework last
        read it (its files' modification and access times, and the time of what marks it placed),
        never an archive's own dates."""
        ...

    def matches(self, model: CachedModel, rid: str) -> bool:
        """Whether the id ``rid`` names ``model`` besides by its own id (a builder's name naming its weights)."""
        ...

    def verify(self, model: CachedModel) -> Verified:
        """Re-hash the model's files against what names them (a blob's name, a hash prefix, a manifest the
        hub wrote); each bad or missing file is one ``Problem``. Reads only."""
        ...

    def revision_path(self, ctx: Context, ref: str, revision: str) -> str | None:
        """What a framework loads for ``ref`` at ``revision`` (``cache path ID@REV``), the local tier first;
        ``NotFoundError`` when that revision is not cached; None when the layout has no revisions
        (the model's ``path`` is the answer)."""
        ...

    def plan_removal(self, model: CachedModel, revision: str | None) -> Removal:
        """What removing ``model`` (or only ``revision`` of it) deletes, in the order that keeps the cache
        consistent, and the bytes that frees; ``UsageError`` for a revision of a layout without them.
        Deletes nothing."""
        ...

    def settle(self, removals: Sequence[Removal]) -> list[Removal]:
        """This hub's removals of one plan, in order, with what they free together that none frees alone
        (a store blob goes with the last removal unlinking it). Deletes nothing."""
        ...

    def locks(self, removal: Removal) -> RemovalLocks:
        """The locks a pull of what ``removal`` deletes takes, as they are now: the removal takes them all,
        without waiting, or skips."""
        ...

    def carry_out(self, removal: Removal, held: set[str]) -> None:
        """Delete what ``removal`` names, under its locks (``held``: their paths; a download lock not among
        them belongs to a pull that began since, and its bytes stay), so that the framework never sees
        a half-removed model."""
        ...

    def stale_partials(self, ctx: Context, now: float) -> list[Removal]:
        """Partial downloads and temporary folders in the local tier older than ``STALE_PARTIAL`` (a pull that
        stopped and never resumed), each with the download lock a resuming pull would take."""
        ...


# == cite: what a model's own card says to cite =================================================
class Cites(Protocol):
    """A hub whose model cards ``zoofind cite`` reads, after the catalog's checked papers.

    ``ops.cite`` asks it only for a model the catalog has no paper for, de-duplicates and keys
    what it answers, and cites the model as itself when nothing is found.
    """

    def cite(self, pid: ParsedId, revision: str | None, ctx: Context) -> CardCitation:
        """The citation blocks of the model's own card at ``revision`` (BibTeX in a README, a
        dataset card's citation field, a ``CITATION.cff``), each a ``Reference`` with ``source``
        ``card``. Read from this machine's cache when the model was pulled (zero requests), else
        fetched; with ``ctx.offline`` and nothing cached, an empty answer with a note. A block
        that does not parse is a note, never a guess. Papers the card only links go in
        ``related``. A failure to reach the hub raises a ``ZoofindError``."""
        ...


# == bundle: export and import placement =======================================================
class Bundles(Protocol):
    """Where a hub's locked files live on this machine, for ``zoofind export`` and ``import``.

    ``ops.bundle`` moves, hashes and checks the bytes; it asks this only where they are and
    where they go. Every path is below a root ``roots`` gave. Nothing here touches the network.
    """

    def roots(self, environ: Mapping[str, str], *, shared: bool) -> tuple[Path, ...]:
        """This user's cache root of the hub (first; ``import`` writes there), then, with
        ``shared``, its folders in the shared tier's roots (``PLACE.shared(environ)``; export looks
        in all of them, in order)."""

    def model_path(self, model: LockedModel, root: Path) -> Path:
        """What the framework loads for ``model`` below ``root`` (a folder or a file)."""

    def located(self, model: LockedModel, file: LockedFile, root: Path) -> tuple[Path, ...]:
        """Where ``file`` may already sit below ``root``, most likely first; ``export`` takes the
        first regular file of the locked size (and hashes it while it copies)."""

    def problem(self, model: LockedModel) -> str | None:
        """What in this locked model this hub cannot place (a ref name that is no file name, a
        path its layout has no room for), beyond the lock reader's checks; None: nothing."""

    def placement(self, model: LockedModel, root: Path, environ: Mapping[str, str]) -> Placement:
        """Where each file's bytes go below ``root`` (this user's root), which lock guards each,
        and where each may already be. Writes nothing."""

    def in_place(self, placement: Placement) -> bool:
        """Whether any file of the model may be in place already (checked then file by file);
        False: every file is needed (a model placed whole that is not there)."""

    def make_visible(self, placement: Placement, placed: frozenset[str]) -> tuple[str, ...]:
        """The last step, once every file is in place: what makes the framework see the model
        (Hub snapshot links and then the ref; a staged folder renamed into place with its
        descriptor). ``placed``: the paths this import wrote. Returns notes for the user; raises
        ``ZoofindError`` or ``OSError`` when the model cannot be made visible."""


# == shared tier: where a hub's cache sits in a cache home =====================================
# Not an ability (nothing to make on first use): a declaration. A hub whose cache the read-only
# shared tier (``ZOOFIND_SHARED_CACHE``: folders each laid out as a cache home, ``$XDG_CACHE_HOME``)
# may hold declares once where that cache sits inside a cache home, and where it sits for this
# user, at the top of the module that computes its cache's folder::
#
#     PLACE = caches.shared.declare(("torch", "hub", "checkpoints"), checkpoints)  # checkpoints(environ) -> Path
#
# From then on a download's target in that cache is first looked for at the same relative path
# in each root, checked as a download is, and linked (``caches.shared.link_file``, which the fetch
# engine asks before any request); ``PLACE.shared(environ)`` gives the cache's folder in each
# root (its ``Caches.scan`` of the ``shared`` tier, its ``Bundles.roots``), ``PLACE.tiered`` the
# folders of a tier. The names of the files in the cache must say what they hold (a hash, a
# hash prefix, a handle's digest): the same name in a root must mean the same bytes. A layout
# whose models are folders checks a shared folder itself and links it with ``caches.shared.link``
# (one atomic symlink), from its plan (``Download.shared``). A hub that declares nothing has no
# shared tier: its ``shared`` tier is empty and every file is downloaded.

