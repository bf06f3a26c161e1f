"""One wrong-typed field never sinks an answer.

The Hub's and Kaggle's JSON -> ``Record`` mappers (and TF Hub's reading of redirect
addresses), fed arbitrary JSON values where each field should be: they return well-typed
records or raise their one documented error, a bad field is dropped alone, what they
cache is valid and stays the same when read again, and every ``--sort`` orders what they
return. Then the same through the CLI, against a local server answering such data.
"""

from __future__ import annotations

import json
import math
import typing
from dataclasses import fields

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from servers.hostile import HostileServer
from zoofind import catalog
from zoofind.core.errors import BadAnswerError
from zoofind.hubs import Repairs
from zoofind.hubs.hf import mapping as hf
from zoofind.hubs.ids import parse_id
from zoofind.hubs.kaggle import mapping as kaggle
from zoofind.hubs.tfhub.source import kaggle_page
from zoofind.models.records import Record
from zoofind.ops.find import SORTS
from zoofind.ops.ranking import Candidate, sort_key

# -- arbitrary JSON, and the fields each hub sends ---------------------------------------

SCALARS = st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.floats() | st.text(max_size=30)
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
                    max_leaves=12)


def maybe(good: st.SearchStrategy) -> st.SearchStrategy:
    """A field as a hub should send it, or anything at all."""
    return good | JSON


HUB_FILE = st.fixed_dictionaries({}, optional={
    "rfilename": maybe(st.sampled_from(["model.safetensors", "pytorch_model.bin", "README.md", "onnx/model.onnx"])),
    "size": maybe(st.integers(0, 10**12)),
    "lfs": maybe(st.fixed_dictionaries({}, optional={"size": maybe(st.integers(0, 10**12)), "sha256": maybe(st.text(max_size=64))})),
})
HUB_MODEL = st.fixed_dictionaries({"id": maybe(st.sampled_from(["acme/x", "facebook/esm2_t6_8M_UR50D", "gpt2", "a/b.git"]))}, optional={
    "author": maybe(st.text(max_size=10)), "sha": maybe(st.text(max_size=40)), "private": maybe(st.booleans()),
    "gated": maybe(st.sampled_from([False, True, "auto", "manual"])), "downloads": maybe(st.integers(0, 10**9)),
    "likes": maybe(st.integers(0, 10**6)), "lastModified": maybe(st.just("2023-03-21T15:05:12.000Z")),
    "createdAt": maybe(st.just("2022-01-01T00:00:00.000Z")), "pipeline_tag": maybe(st.sampled_from(["fill-mask", "text-generation"])),
    "library_name": maybe(st.sampled_from(["transformers", "timm", "sentence-transformers"])),
    "tags": maybe(st.lists(st.sampled_from(["pytorch", "license:mit", "dataset:uniref50", "custom_code", "gguf"]))),
    "cardData": maybe(st.fixed_dictionaries({}, optional={
        "license": maybe(st.sampled_from(["mit", "other"])), "license_name": maybe(st.text(max_size=10)),
        "datasets": maybe(st.lists(st.text(max_size=8))), "base_model": maybe(st.text(max_size=10)),
        "summary": maybe(st.text(max_size=40)), "description": maybe(st.text(max_size=40)),
    })),
    "safetensors": maybe(st.fixed_dictionaries({"total": maybe(st.integers(0, 10**10))})),
    "gguf": maybe(st.fixed_dictionaries({}, optional={"total": maybe(st.integers(0, 10**10)), "architecture": maybe(st.text(max_size=8))})),
    "siblings": maybe(st.lists(maybe(HUB_FILE), max_size=4)),
})
KAGGLE_INSTANCE = st.fixed_dictionaries({}, optional={
    "slug": maybe(st.sampled_from(["yamnet", "default", "bad slug"])),
    "framework": maybe(st.sampled_from(["tensorFlow2", "MODEL_FRAMEWORK_TF_LITE", "pyTorch", "gguf"])),
    "versionNumber": maybe(st.integers(0, 20)), "url": maybe(st.sampled_from(["https://www.kaggle.com/models/x", "javascript:x"])),
    "licenseName": maybe(st.sampled_from(["Apache 2.0", "MIT"])), "fineTunable": maybe(st.booleans()),
    "trainingData": maybe(st.lists(st.text(max_size=8))), "overview": maybe(st.text(max_size=40)),
    "totalUncompressedBytes": maybe(st.integers(0, 10**10)),
})
KAGGLE_MODEL = st.fixed_dictionaries({"ref": maybe(st.sampled_from(["google/yamnet", "acme/x", "no-slash", "a/b/c"]))}, optional={
    "id": maybe(st.integers(0, 10**6)), "title": maybe(st.text(max_size=20)), "subtitle": maybe(st.text(max_size=20)),
    "author": maybe(st.text(max_size=10)), "slug": maybe(st.text(max_size=10)), "description": maybe(st.text(max_size=40)),
    "voteCount": maybe(st.integers(0, 10**6)), "downloadCount": maybe(st.integers(0, 10**9)),
    "updateTime": maybe(st.just("2024-03-01T10:00:00.000Z")), "publishTime": maybe(st.just("2023-01-01T00:00:00Z")),
    "isPrivate": maybe(st.booleans()),
    "tags": maybe(st.lists(maybe(st.fixed_dictionaries({"name": maybe(st.sampled_from(["Audio Classification", "Bioacoustics"]))})))),
    "instances": maybe(st.lists(maybe(KAGGLE_INSTANCE), max_size=3)),
})

# -- what "well-typed" means -----------------------------------------------------------

HINTS = typing.get_type_hints(Record)


def is_json(value: object) -> bool:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return False
    return True


def assert_well_typed(rec: Record) -> None:
    """Every field has its declared type (no bool where an int belongs), ids parse, extra is JSON."""
    for f in fields(Record):
        value, hint = getattr(rec, f.name), HINTS[f.name]
        args = typing.get_args(hint)
        if f.name == "extra":
            assert is_json(dict(value)), value
        elif hint is bool or hint is str:
            assert type(value) is hint, (f.name, value)
        elif typing.get_origin(hint) is tuple:
            assert isinstance(value, tuple) and all(type(v) is str for v in value), (f.name, value)
        elif int in args:
            assert value is None or (type(value) is int and value >= 0), (f.name, value)
        else:  # str | None
            assert value is None or type(value) is str, (f.name, value)
    assert parse_id(rec.id) == parse_id(str(parse_id(rec.id)))


def assert_every_sort_works(records: list[Record]) -> None:
    cat = catalog.load()
    for sort in SORTS:
        sorted((Candidate(1.0, rec=r) for r in records), key=sort_key(sort, cat))  # no TypeError, whatever was sent


# -- the Hugging Face Hub ----------------------------------------------------------------

@settings(max_examples=80, deadline=None)
@given(HUB_MODEL)
def test_hub_model_json_gives_a_well_typed_record_or_the_documented_error(model: dict) -> None:
    try:
        rec = hf.record_from_payload(model, "http://hub")
    except BadAnswerError:
        assert hf.usable_id(model.get("id")) is None  # the one thing that cannot be repaired
        return
    assert_well_typed(rec)
    assert rec.id == f"hf:{model['id']}"
    assert_every_sort_works([rec])


@settings(max_examples=80, deadline=None)
@given(HUB_MODEL, st.booleans())
def test_what_the_hub_cache_keeps_is_valid_and_reads_back_the_same(model: dict, all_files: bool) -> None:
    kept = hf.trimmed(model, all_files=all_files)
    assert is_json(kept)
    again = json.loads(json.dumps(kept))  # through the answer cache
    assert hf.trimmed(again, all_files=all_files) == kept
    if "id" in kept and all_files:
        assert hf.record_from_payload(again, "http://hub").to_dict() == hf.record_from_payload(model, "http://hub").to_dict()


@settings(max_examples=80, deadline=None)
@given(st.lists(HUB_MODEL | JSON, max_size=6))
def test_a_listing_keeps_every_model_it_can_read(page: list) -> None:
    repairs = Repairs()
    kept = hf.screen(page, repairs)
    readable = [m for m in page if isinstance(m, dict) and hf.usable_id(m.get("id"))]
    assert kept == readable and repairs.records == len(page) - len(readable)
    records = list(hf.records_from_payloads(page, "http://hub", Repairs()))
    assert [r.id for r in records] == [f"hf:{m['id']}" for m in readable]
    for rec in records:
        assert_well_typed(rec)
    assert_every_sort_works(records)


def test_each_wrong_typed_field_is_dropped_alone_and_counted() -> None:
    model = {"id": "acme/x", "downloads": "many", "likes": 7.0, "tags": "pytorch", "siblings": {"a": 1},
             "lastModified": 1700000000, "pipeline_tag": ["fill-mask"], "cardData": {"license": "mit", "summary": 3}}
    repairs = Repairs()
    rec = hf.record_from_payload(model, "http://hub", repairs)
    assert (rec.downloads, rec.likes, rec.updated, rec.tasks) == (None, 7, None, ())
    assert rec.frameworks == ("pytorch",) and rec.license == "mit" and rec.weights_format == ()
    assert repairs.fields == 5  # downloads, siblings, lastModified, pipeline_tag, summary
    assert repairs.note("the Hub") == "the Hub sent malformed data: 5 wrong-typed field(s) dropped"


def test_a_long_description_is_cut_where_it_enters() -> None:
    kept = hf.trimmed({"id": "acme/x", "cardData": {"summary": "word " * 10**6}}, all_files=False)
    assert len(kept["cardData"]["summary"]) == hf.DESCRIPTION_CHARS


# -- Kaggle Models -----------------------------------------------------------------------

@settings(max_examples=80, deadline=None)
@given(KAGGLE_MODEL)
def test_kaggle_model_json_gives_well_typed_records(model: dict) -> None:
    records = kaggle.model_records(model, kaggle.ALL_FRAMEWORKS)
    for rec in records:
        assert_well_typed(rec)
        assert rec.id.startswith(f"kaggle:{model['ref']}/")
    assert_every_sort_works(records)


@settings(max_examples=80, deadline=None)
@given(KAGGLE_MODEL)
def test_what_the_kaggle_cache_keeps_is_valid_and_reads_back_the_same(model: dict) -> None:
    kept = kaggle.trimmed(model)
    assert is_json(kept)
    again = json.loads(json.dumps(kept))
    assert kaggle.trimmed(again) == kept
    assert [r.to_dict() for r in kaggle.model_records(again, kaggle.ALL_FRAMEWORKS)] == \
        [r.to_dict() for r in kaggle.model_records(model, kaggle.ALL_FRAMEWORKS)]


def test_a_kaggle_instance_with_wrong_types_keeps_its_neighbours() -> None:
    good = {"slug": "yamnet", "framework": "tensorFlow2", "versionNumber": 1, "licenseName": "Apache 2.0"}
    bad = {"slug": "other", "framework": "tensorFlow2", "versionNumber": "one", "totalUncompressedBytes": [1]}
    model = {"ref": "google/yamnet", "title": 5, "voteCount": "lots", "tags": "Audio Classification",
             "instances": [good, bad, "not an instance"]}
    repairs = Repairs()
    records = kaggle.model_records(model, kaggle.ALL_FRAMEWORKS, repairs)
    assert [r.id for r in records] == ["kaggle:google/yamnet/tensorFlow2/yamnet", "kaggle:google/yamnet/tensorFlow2/other"]
    assert records[0].extra["version"] == 1 and "version" not in records[1].extra and records[1].size_bytes is None
    assert records[0].likes is None and records[0].name == "yamnet (tensorFlow2/yamnet)"
    assert records[0].tasks == ("audio-classification",)
    assert repairs.fields == 5  # title, voteCount, versionNumber, totalUncompressedBytes, the string instance


# -- TF Hub: where a handle's redirects lead ---------------------------------------------

@settings(max_examples=80, deadline=None)
@given(st.text(max_size=60) | st.tuples(st.sampled_from(["https://www.kaggle.com/models/", "http://[::1", "//x/models/"]),
                                       st.text(max_size=40)).map("".join))
def test_any_redirect_address_is_a_kaggle_page_or_none(url: str) -> None:
    page = kaggle_page(url)
    if page is not None:
        web, kid = page
        assert isinstance(web, str) and parse_id(kid).source == "kaggle"


# -- through the CLI ---------------------------------------------------------------------

GOOD = {"id": "acme/good-model", "likes": 5, "downloads": 50, "pipeline_tag": "fill-mask", "tags": ["pytorch"]}
LISTING = [
    GOOD,
    {"id": "acme/many-downloads", "downloads": "many", "likes": 2, "tags": ["pytorch"]},
    {"id": 12345, "likes": 9},  # an id that is a number: no record can be named after it
    {"id": "acme/string-tags", "tags": "pytorch", "likes": 1},
    {"id": "acme/object-siblings", "siblings": {"model.safetensors": {}}, "likes": 3},
    {"id": "acme/number-dates", "lastModified": 1700000000, "createdAt": 1.5},
    "not a model",
]


@pytest.mark.parametrize("sort", ["likes", "updated"])
def test_search_sorts_a_partly_malformed_hub_answer(cli, sort: str) -> None:
    """`zoofind search acme -s hf --sort likes` over a listing with wrong-typed fields: the good records, ordered."""
    with HostileServer("json", payloads={"hf-list": LISTING}) as server:
        r = cli("search", "acme", "-s", "hf", "--sort", sort, "--json", env={"HF_ENDPOINT": server.url})
    assert r.code == 0 and "Traceback" not in r.stderr and "unexpected" not in r.stderr, r.stderr
    body = json.loads(r.stdout)
    ids = [rec["id"] for rec in body["results"]]
    assert set(ids) == {"hf:acme/good-model", "hf:acme/many-downloads", "hf:acme/string-tags", "hf:acme/object-siblings",
                        "hf:acme/number-dates"}
    if sort == "likes":
        assert ids[:3] == ["hf:acme/good-model", "hf:acme/object-siblings", "hf:acme/many-downloads"]
    many = next(rec for rec in body["results"] if rec["id"] == "hf:acme/many-downloads")
    assert many["downloads"] is None and many["likes"] == 2
    assert next(rec for rec in body["results"] if rec["id"] == "hf:acme/string-tags")["frameworks"] == ["pytorch"]


def test_info_shows_a_model_whose_fields_are_partly_malformed(cli) -> None:
    model = {"id": "acme/x", "downloads": "many", "likes": True, "tags": "pytorch", "siblings": {"x": 1},
             "lastModified": 3, "cardData": ["not", "a", "card"], "gated": "maybe"}
    with HostileServer("json", payloads={"hf-info": model}) as server:
        r = cli("info", "hf:acme/x", "--json", env={"HF_ENDPOINT": server.url})
    assert r.code == 0, r.stderr
    rec = json.loads(r.stdout)["record"]
    assert rec["id"] == "hf:acme/x" and rec["downloads"] is None and rec["likes"] is None and rec["frameworks"] == ["pytorch"]
    assert rec["gated"] is False and rec["updated"] is None


def test_kaggle_search_keeps_good_models_beside_malformed_ones(cli) -> None:
    good = {"ref": "google/yamnet", "title": "YAMNet", "voteCount": 3,
            "instances": [{"slug": "yamnet", "framework": "tensorFlow2", "versionNumber": 1}]}
    page = {"models": [good, {"ref": 7}, "junk", {"ref": "acme/x", "voteCount": "many", "instances": {"x": 1}},
                       {"ref": "acme/y", "title": ["t"], "instances": [{"slug": "v", "framework": "tensorFlow2", "versionNumber": "1.5"}]}]}
    with HostileServer("json", payloads={"kaggle-list": page}) as server:
        r = cli("search", "yamnet", "-s", "kaggle", "--sort", "likes", "--json",
                env={"ZOOFIND_KAGGLE_ENDPOINT": server.url, "KAGGLE_API_TOKEN": "tok"})
    assert r.code == 0, r.stderr
    body = json.loads(r.stdout)
    ids = [rec["id"] for rec in body["results"] if rec["source"] == "kaggle"]
    assert ids == ["kaggle:google/yamnet/tensorFlow2/yamnet", "kaggle:acme/y/tensorFlow2/v"]
    status = next(s for s in body["sources"] if s["name"] == "kaggle")
    assert "Kaggle sent malformed data" in status["message"] and "skipped" in status["message"]
    assert not math.isnan(status["seconds"])
