"""Kaggle's vocabulary and ApiModel JSON -> zoofind's ``Record``.

An ApiModel has ``id, ref ("owner/slug"), title, subtitle, author, slug, description,
instances, tags, publishTime, url, voteCount, updateTime``; each instance (a framework +
variation) has ``slug`` (the variation), ``framework``, ``versionNumber``, ``url``,
``licenseName``, ``fineTunable``, ``trainingData``, ``overview``, ``totalUncompressedBytes``.
Frameworks come spelled as the live API spells them (``tensorFlow2``) or in kagglesdk's
enum spelling (``MODEL_FRAMEWORK_TENSOR_FLOW_2``); ``normalise_framework`` reads both.

One record per instance, id ``kaggle:owner/model/framework/variation`` (the version is
in ``extra``). The listing cannot filter by framework, so searches keep the TensorFlow
family (what tfhub.dev moved to Kaggle: ``FRAMEWORKS``); ``info`` maps every framework
it knows (``OTHER_FRAMEWORKS`` too). zoofind's framework key for each comes from the one
vocabulary, ``zoofind.frameworks``.
"""

from __future__ import annotations

import re
from typing import Any, Sequence

from ... import frameworks as vocabulary
from ...records import Record
from .. import SearchQuery

WEB = "https://www.kaggle.com"
EVIDENCE = "Kaggle Models API (models.ModelApiService)"
#: Models per ListModels page (the API's largest useful page; a search reads a few at most).
PAGE_SIZE = 50

#: Kaggle's spelling of each framework (what its API answers and its URLs use), and whether
#: searches keep it: the TensorFlow family (Coral: Edge TPU-compiled TF Lite).
_KAGGLE_SPELLINGS: tuple[tuple[str, bool], ...] = (
    ("tensorFlow1", True), ("tensorFlow2", True), ("tfLite", True), ("tfJs", True), ("coral", True),
    ("pyTorch", False), ("jax", False), ("flax", False), ("keras", False), ("onnx", False),
    ("scikitLearn", False), ("mxnet", False), ("transformers", False), ("gguf", False), ("ggml", False),
)

#: zoofind --sort -> ListModelsOrderBy (relevance: the server's default order for a search)
SORT_BY = {
    "downloads": "LIST_MODELS_ORDER_BY_DOWNLOAD_COUNT",
    "likes": "LIST_MODELS_ORDER_BY_VOTE_COUNT",
    "updated": "LIST_MODELS_ORDER_BY_UPDATE_TIME",
}
_PART = r"[A-Za-z0-9_.-]+"


def normalise_framework(value: Any) -> str:
    """A framework as either spelling writes it -> one form: lower case, no "_"/"-", no enum prefix."""
    text = str(value or "")
    if text.upper().startswith("MODEL_FRAMEWORK_"):
        text = text[len("MODEL_FRAMEWORK_"):]
    return text.replace("_", "").replace("-", "").lower()


def framework_key(name: str) -> str:
    """zoofind's framework key for a Kaggle framework, "" when it names none (gguf, ggml).

    A framework or a front end whose weights show one (flax -> jax) is ``framework_of``'s;
    a library Kaggle files models under (transformers) means the framework it runs on.
    """
    key = vocabulary.framework_of(name)
    if key is None:
        lib = vocabulary.LIBRARIES.get(vocabulary.canonical(name))
        key = lib.framework if lib is not None else None
    return key or ""


#: normalised framework -> (Kaggle's spelling, zoofind's framework key): searched, and the others.
FRAMEWORKS: dict[str, tuple[str, str]] = {
    normalise_framework(s): (s, framework_key(normalise_framework(s))) for s, searched in _KAGGLE_SPELLINGS if searched
}
OTHER_FRAMEWORKS: dict[str, tuple[str, str]] = {
    normalise_framework(s): (s, framework_key(normalise_framework(s))) for s, searched in _KAGGLE_SPELLINGS if not searched
}
ALL_FRAMEWORKS: dict[str, tuple[str, str]] = {**FRAMEWORKS, **OTHER_FRAMEWORKS}


def list_body(query: SearchQuery) -> dict[str, Any]:
    """The ListModels request for a query (its first page)."""
    body: dict[str, Any] = {"pageSize": PAGE_SIZE}
    # Kaggle searches titles and descriptions, not ids: the whole text, not the runner's id keyword.
    text = query.text.strip()
    if text:
        body["search"] = text
    if query.sort in SORT_BY:
        body["sortBy"] = SORT_BY[query.sort]
    return body


_MODEL_KEYS = ("id", "ref", "title", "subtitle", "author", "slug", "description", "url", "voteCount",
               "updateTime", "publishTime", "downloadCount", "isPrivate")
_INSTANCE_KEYS = ("slug", "framework", "versionNumber", "url", "licenseName", "fineTunable", "trainingData",
                  "overview", "totalUncompressedBytes")


def trimmed(model: dict[str, Any]) -> dict[str, Any]:
    """What the cache keeps of an ApiModel (JSON, without long texts zoofind does not show)."""
    out = {k: model[k] for k in _MODEL_KEYS if k in model}
    if isinstance(out.get("description"), str):
        out["description"] = out["description"][:2000]
    out["tags"] = [t.get("name") or t.get("ref") for t in model.get("tags") or () if isinstance(t, dict)]
    out["instances"] = [
        {k: (i[k][:1000] if k == "overview" and isinstance(i.get(k), str) else i[k]) for k in _INSTANCE_KEYS if k in i}
        for i in model.get("instances") or () if isinstance(i, dict)
    ]
    if "instances" not in model:
        out["instances_unknown"] = True
    return out


def _plain(text: str, limit: int = 300) -> str:
    """Markdown -> one line of plain text for a summary."""
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", text)
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"^#+\s*.*$", "", text, flags=re.M)  # headings are section titles, not summary
    text = re.sub(r"[*_`>|]", "", text)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def _license(name: Any) -> str | None:
    text = str(name or "").strip()
    return re.sub(r"\s+", "-", text.lower()) if text else None


def _tasks(tags: Sequence[str]) -> tuple[str, ...]:
    from ...tasks import ALIASES, canonical_task

    known = set(ALIASES.values())
    return tuple(dict.fromkeys(t for t in (canonical_task(x) for x in tags if x) if t in known))


def model_records(model: dict[str, Any], frameworks: dict[str, tuple[str, str]]) -> list[Record]:
    """One record per instance (framework + variation) whose framework is in ``frameworks``."""
    owner, _, slug = str(model.get("ref") or "").partition("/")
    slug = slug or str(model.get("slug") or "")
    if not (owner and slug and re.fullmatch(_PART, owner) and re.fullmatch(_PART, slug)):
        return []
    tags = [str(t) for t in model.get("tags") or () if t]
    title = str(model.get("title") or slug)
    subtitle = str(model.get("subtitle") or "")
    out: list[Record] = []
    for inst in model.get("instances") or ():
        fw = frameworks.get(normalise_framework(inst.get("framework")))
        variation = str(inst.get("slug") or "")
        if fw is None or not re.fullmatch(_PART, variation):
            continue
        fw_slug, fw_key = fw
        handle = f"{owner}/{slug}/{fw_slug}/{variation}"
        summary = _plain(str(inst.get("overview") or model.get("description") or ""))
        description = ". ".join(x for x in (subtitle.rstrip("."), summary) if x)
        url = str(inst.get("url") or "")
        if not url.startswith(("http://", "https://")):
            url = f"{WEB}/models/{handle}"
        extra: dict[str, Any] = {
            "kaggle_ref": f"{owner}/{slug}",
            "framework_slug": fw_slug,
            "variation": variation,
            "author": model.get("author"),
        }
        if inst.get("versionNumber"):
            extra["version"] = int(inst["versionNumber"])
            extra["handle"] = f"{handle}/{int(inst['versionNumber'])}"
        for src, dst in (("fineTunable", "fine_tunable"), ("trainingData", "training_data"),
                         ("totalUncompressedBytes", "uncompressed_bytes"), ("id", "kaggle_model_id")):
            value = inst.get(src) if src != "id" else model.get("id")
            if value not in (None, "", []):
                extra[dst] = value
        out.append(
            Record(
                id=f"kaggle:{handle}",
                source="kaggle",
                kind="model",
                name=f"{title} ({fw_slug}/{variation})",
                description=description,
                url=url,
                tasks=_tasks(tags),
                frameworks=(fw_key,) if fw_key else (),
                libraries=("kagglehub",),
                license=_license(inst.get("licenseName")),
                gated=False,
                tags=tuple(dict.fromkeys([*tags, owner, "kaggle"])),
                size_bytes=int(inst["totalUncompressedBytes"]) if inst.get("totalUncompressedBytes") else None,
                downloads=int(model["downloadCount"]) if isinstance(model.get("downloadCount"), int) else None,
                likes=int(model["voteCount"]) if isinstance(model.get("voteCount"), int) else None,
                updated=str(model.get("updateTime") or model.get("publishTime") or "") or None,
                reliability="generated",
                evidence=EVIDENCE,
                extra=extra,
            )
        )
    return out
