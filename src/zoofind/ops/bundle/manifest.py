"""The bundle format: its manifest (a lock plus ``bundle = N``), member names, and the checks of a
lock and of a member list against it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ...core.errors import UsageError, ZoofindError
from ...core.tomlread import tomllib
from ...fetch.integrity import Hasher, IntegrityError, verify
from ...hubs import registry
from ...hubs.ids import parse_id
from ...models.lock import Lock, LockedFile
from ...models.transfer import Expected
from .. import lockfile

#: The bundle layout's version, written as ``bundle = N`` at the top of the manifest.
BUNDLE_VERSION = 1
MANIFEST = "zoofind-bundle.toml"
BLOBS = "blobs"
#: A manifest larger than this is not one zoofind wrote (a lock of 100,000 files is ~20 MB).
MANIFEST_MAX = 64 * 1024 * 1024


class BundleError(ZoofindError):
    """A bundle that is not what its manifest says (a hostile or damaged member, a missing
    one), or a cache file that is not what the lock says: exit 1, nothing of it written."""


def expected(f: LockedFile) -> Expected:
    """What a locked file's bytes must be: size, sha256 and, for a Hub blob named by its git id, that id too."""
    git = f.blob if f.blob is not None and len(f.blob) == 40 else None
    return Expected(f.size, f.sha256, git)


def check_bytes(h: Hasher, f: LockedFile, label: str, what: str) -> None:
    """``integrity.verify``, worded for bytes that came from a bundle or a cache rather than a download."""
    try:
        verify(h, expected(f), label)
    except IntegrityError as exc:
        raise IntegrityError(exc.message.replace("downloaded bytes", what, 1), hint=exc.hint) from None


def file_label(model_id: str, path: str) -> str:
    """What progress calls a file: the model's last name part and the file's path."""
    return f"{parse_id(model_id).ref.rsplit('/', 1)[-1]}/{path}"


def member_name(sha256: str) -> str:
    return f"{BLOBS}/{sha256}"


# -- the manifest ---------------------------------------------------------------------------
def manifest_text(lock: Lock) -> str:
    """The manifest: ``bundle = N``, then the lock as ``lockfile.dumps`` writes it (valid TOML:
    a top-level key may come first, and a lock reader ignores it)."""
    return (f"# zoofind bundle manifest: the lock below, plus this bundle format's version.\n"
            f"# Members blobs/<sha256> hold the files. Place them with: zoofind import BUNDLE\n"
            f"bundle = {BUNDLE_VERSION}\n" + lockfile.dumps(lock, name=MANIFEST))


def read_manifest(text: str, origin: str) -> Lock:
    """The lock a manifest carries; ``BundleError`` when it is not a manifest this zoofind reads."""
    try:
        version = tomllib.loads(text).get("bundle")
    except (tomllib.TOMLDecodeError, RecursionError) as exc:
        raise BundleError(f"{origin}: the manifest is not valid TOML ({exc})", hint=REMAKE) from None
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise BundleError(f"{origin}: not a zoofind bundle manifest (no `bundle = {BUNDLE_VERSION}` line)", hint=REMAKE)
    if version > BUNDLE_VERSION:
        raise BundleError(f"{origin}: written by a newer zoofind (bundle format {version}; "
                          f"this zoofind reads {BUNDLE_VERSION})",
                          hint="upgrade zoofind on this machine: pip install -U zoofind (from a wheel you carry over)")
    try:
        return lockfile.loads(text, origin=origin)
    except UsageError as exc:  # a bundle is data that came from elsewhere: a bad one is a failure, not a usage error
        raise BundleError(exc.message, hint=REMAKE) from None


REMAKE = "the bundle is damaged or was not made by zoofind; make it again with `zoofind export` where the models are"


def check_lock(lock: Lock, origin: str, *, error: type[ZoofindError]) -> None:
    """What a bundle needs of a lock beyond ``lockfile``'s own checks: hubs that can carry their
    models in a bundle (and what each hub needs of its models), one size per sha256, no path that
    is both a file and a folder."""
    sizes: dict[str, int] = {}
    for m in lock.models:
        if not _can_bundle(m.source):
            able = ", ".join(f"{name}:" for name in registry.able("bundle"))
            raise error(f"{origin}: {m.id}: {m.source} models cannot be bundled yet",
                        hint=f"bundles carry {able} models")
        if problem := registry.ability(m.source, "bundle").problem(m):
            raise error(f"{origin}: {problem}")
        paths = {f.path for f in m.files}
        for f in m.files:
            parents = f.path.split("/")[:-1]
            folders = ("/".join(parents[:k]) for k in range(1, len(parents) + 1))
            if clash := next((d for d in folders if d in paths), None):
                raise error(f"{origin}: {m.id}: {clash!r} is both a file and the folder of {f.path!r}")
            if sizes.setdefault(f.sha256, f.size) != f.size:
                raise error(f"{origin}: sha256 {f.sha256[:12]}... is given two sizes "
                            f"({sizes[f.sha256]} and {f.size} bytes)")


def _can_bundle(source: str) -> bool:
    try:
        return registry.can(source, "bundle")
    except UsageError:  # a hub this machine does not have (a plugin not installed here)
        return False



# -- reading bundles -------------------------------------------------------------------------
@dataclass(frozen=True)
class Member:
    name: str
    size: int

    @property
    def sha256(self) -> str:
        return self.name.split("/", 1)[1]



def refused(origin: str, name: str, why: str) -> BundleError:
    return BundleError(f"{origin}: member {name!r} {why}; refused, nothing of it was written",
                       hint="the bundle is damaged or hostile; make it again with `zoofind export`")



def check_listing(origin: str, listing: Sequence[Member], wanted: Mapping[str, int]) -> None:
    """The members of a tar file or folder against the manifest, before anything is written."""
    seen: set[str] = set()
    for member in listing:
        check_member(origin, member, wanted, seen)
    missing = [sha for sha in wanted if sha not in seen]
    if missing:
        raise BundleError(f"{origin}: the manifest lists {len(missing)} file(s) the bundle does not hold "
                          f"({', '.join(member_name(s) for s in missing[:3])}{', ...' if len(missing) > 3 else ''})",
                          hint="the bundle is incomplete; make it again with `zoofind export`")


def check_member(origin: str, member: Member, wanted: Mapping[str, int], seen: set[str]) -> None:
    if member.name == MANIFEST:
        raise refused(origin, member.name, "comes twice")
    sha = member.sha256
    if sha not in wanted:
        raise refused(origin, member.name, "is not in the manifest")
    if sha in seen:
        raise refused(origin, member.name, "comes twice")
    if member.size != wanted[sha]:
        raise refused(origin, member.name, f"holds {member.size} bytes, the manifest says {wanted[sha]}")
    seen.add(sha)


