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
vocabulary, ``zoofind.catalog.frameworks``.

An ApiModel is validated where it enters (``trimmed``: the schema of what zoofind reads,
with the readers in ``zoofind.hubs``): a field of the wrong type is dropped alone
(counted in a ``Repairs``), texts are cut short, and only what is valid is cached. A model
or an instance without usable slugs gives no record; the others beside it still do.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ...catalog import frameworks as vocabulary
from ...core.redaction import redact_url
from ...models.records import Record
from .. import (
    FieldReader,
    Repairs,
    SearchQuery,
    json_bool,
    json_date,
    json_int,
    json_list,
    json_object,
    json_str,
    json_strs,
    json_text,
    read_fields,
)

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
    normalise_framework(s): (s, framework_key(normalise_framework(s)))
    for s, searched in _KAGGLE_SPELLINGS if not searched
}
ALL_FRAMEWORKS: dict[str, tuple[str, str]] = {**FRAMEWORKS, **OTHER_FRAMEWORKS}


#: kagglesdk 0.1.38's ``ModelFramework`` (``models/types/model_enums.py``): how the model RPCs
#: name a framework (``"framework": "MODEL_FRAMEWORK_TENSOR_FLOW_2"``).
FRAMEWORK_ENUM = tuple(f"MODEL_FRAMEWORK_{n}" for n in (
    "TENSOR_FLOW_1", "TENSOR_FLOW_2", "TF_LITE", "TF_JS", "PY_TORCH", "JAX", "FLAX", "PAX", "MAX_TEXT", "GEMMA_CPP",
    "GGML", "GGUF", "CORAL", "SCIKIT_LEARN", "MXNET", "ONNX", "KERAS", "TRANSFORMERS", "API", "OTHER", "TENSOR_RT_LLM",
    "TRITON", "VLLM",
))
_ENUM_PREFIX = "MODEL_FRAMEWORK_"


def framework_enum(name: str) -> str | None:
    """The enum value a handle's framework means, as kagglehub's ``enum.to_enum`` reads it:
    case and underscores aside (``tensorflow2``, ``tensorFlow2``, ``TENSOR_FLOW_2``); None if none."""
    key = name.upper().replace("_", "")
    key = key.removeprefix(_ENUM_PREFIX.replace("_", ""))
    return next((e for e in FRAMEWORK_ENUM if e[len(_ENUM_PREFIX):].replace("_", "") == key), None)


@dataclass(frozen=True)
class Handle:
    """A Kaggle Models handle, ``owner/model/framework/variation[/version]``, spelled as given:
    kagglehub names its cache folders after the handle's own spelling."""

    owner: str
    model: str
    framework: str
    variation: str
    #: None: the latest (kagglehub: a version of 0 or none at all)
    version: int | None = None

    @classmethod
    def parse(cls, ref: str) -> Handle:
        owner, model, framework, variation, *rest = ref.split("/")  # ids.parse checked the shape
        version = int(rest[0]) if rest else 0  # kagglehub: int(), so 007 is 7
        return cls(owner, model, framework, variation, version=version or None)

    @property
    def variation_ref(self) -> str:
        return f"{self.owner}/{self.model}/{self.framework}/{self.variation}"

    def at(self, version: int) -> Handle:
        return Handle(self.owner, self.model, self.framework, self.variation, version)

    def __str__(self) -> str:
        return self.variation_ref + (f"/{self.version}" if self.version else "")

    @property
    def page(self) -> str:
        """The model's page on kaggle.com (where its terms are accepted)."""
        return f"{WEB}/models/{self.owner}/{self.model}"


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


#: The schema of what zoofind reads of an ApiModel and of each instance (``trimmed``): field -> reader.
_MODEL_FIELDS: dict[str, FieldReader] = {
    **dict.fromkeys(("ref", "slug", "author", "title"), json_text(300)),
    "subtitle": json_text(500), "url": json_text(1000), "description": json_text(2000),
    **dict.fromkeys(("id", "voteCount", "downloadCount"), json_int),
    **dict.fromkeys(("updateTime", "publishTime"), json_date),
    "isPrivate": json_bool,
}
_INSTANCE_FIELDS: dict[str, FieldReader] = {
    **dict.fromkeys(("slug", "licenseName"), json_text(300)),
    "framework": json_text(100), "url": json_text(1000), "overview": json_text(1000),
    **dict.fromkeys(("versionNumber", "totalUncompressedBytes"), json_int),
    "fineTunable": json_bool,
    "trainingData": lambda value, repairs: json_strs(value, repairs, chars=300),
}


def tag_names(raw: Any, repairs: Repairs | None = None) -> list[str]:
    """Kaggle's tags (ApiCategory objects, or names) as their names; one tag alone is a list of one."""
    tags = []
    for t in json_list([raw] if isinstance(raw, str) else raw, repairs):
        if isinstance(t, Mapping):  # Kaggle sends tag objects; the cache keeps their names
            t = t.get("name") or t.get("ref")
        if (tag := json_str(t, repairs, limit=300)):
            tags.append(tag)
    return tags


def trimmed(model: Mapping[str, Any], repairs: Repairs | None = None) -> dict[str, Any]:
    """What the cache keeps of an ApiModel, each field checked for its type; cleaning a
    cleaned model changes nothing (tags are kept as their names)."""
    out = read_fields(model, _MODEL_FIELDS, repairs)
    out["tags"] = tag_names(model.get("tags"), repairs)
    out["instances"] = [read_fields(json_object(i, repairs), _INSTANCE_FIELDS, repairs)
                        for i in json_list(model.get("instances"), repairs)]
    return out


def plain_text(text: str, limit: int = 300) -> str:
    """Markdown -> one line of plain text for a summary."""
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", text)
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"^#+\s*.*$", "", text, flags=re.M)  # headings are section titles, not summary
    text = re.sub(r"[*_`>|]", "", text)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def license_key(name: Any) -> str | None:
    text = str(name or "").strip()
    # "CC0: Public Domain" -> cc0-public-domain, "Apache 2.0" -> apache-2.0
    return re.sub(r"[^a-z0-9.+]+", "-", text.lower()).strip("-") or None


def tasks_of(tags: Sequence[str]) -> tuple[str, ...]:
    from ...catalog.tasks import ALIASES, canonical_task  # lazy: only for search results: off pull --offline

    known = set(ALIASES.values())
    return tuple(dict.fromkeys(t for t in (canonical_task(x) for x in tags if x) if t in known))


def model_records(model: Mapping[str, Any], frameworks: dict[str, tuple[str, str]],
                  repairs: Repairs | None = None) -> list[Record]:
    """One record per instance (framework + variation) whose framework is in ``frameworks``.

    The model is read through ``trimmed`` first, so any JSON gives well-typed records or none.
    """
    model = trimmed(dict(model), repairs) if isinstance(model, Mapping) else {}
    owner, _, slug = model.get("ref", "").partition("/")
    slug = slug or model.get("slug", "")
    if not (owner and slug and re.fullmatch(_PART, owner) and re.fullmatch(_PART, slug)):
        if repairs is not None:
            repairs.records += 1
        return []
    tags: list[str] = model["tags"]
    title = model.get("title") or slug
    subtitle = model.get("subtitle", "")
    out: list[Record] = []
    for inst in model["instances"]:
        fw = frameworks.get(normalise_framework(inst.get("framework")))
        variation = inst.get("slug", "")
        if fw is None or not re.fullmatch(_PART, variation):
            continue
        fw_slug, fw_key = fw
        handle = f"{owner}/{slug}/{fw_slug}/{variation}"
        summary = plain_text(inst.get("overview") or model.get("description") or "")
        description = ". ".join(x for x in (subtitle.rstrip("."), summary) if x)
        url = inst.get("url", "")
        # Kaggle's own address for the page; shown, so without any credentials it may carry.
        url = redact_url(url) if url.startswith(("http://", "https://")) else f"{WEB}/models/{handle}"
        extra: dict[str, Any] = {
            "kaggle_ref": f"{owner}/{slug}",
            "framework_slug": fw_slug,
            "variation": variation,
            "author": model.get("author"),
        }
        if inst.get("versionNumber"):
            extra["version"] = inst["versionNumber"]
            extra["handle"] = f"{handle}/{inst['versionNumber']}"
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
                tasks=tasks_of(tags),
                frameworks=(fw_key,) if fw_key else (),
                libraries=("kagglehub",),
                license=license_key(inst.get("licenseName")),
                gated=False,
                tags=tuple(dict.fromkeys([*tags, owner, "kaggle"])),
                size_bytes=inst.get("totalUncompressedBytes") or None,
                downloads=model.get("downloadCount"),
                likes=model.get("voteCount"),
                updated=model.get("updateTime") or model.get("publishTime"),
                reliability="generated",
                evidence=EVIDENCE,
                extra=extra,
            )
        )
    return out
