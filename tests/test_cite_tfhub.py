"""`zoofind cite` of a TF Hub handle: tfhub.dev keeps no documentation since the Kaggle move, so the
card read is the one of the Kaggle Models page the handle redirects to (tests/servers/tfhub_server.py
redirects as tfhub.dev does; tests/servers/kaggle_server.py answers that page's GetModel), read by
the hub that claims that page, through the registry. pybtex reads every entry back."""

from __future__ import annotations

import pytest
from pybtex.database import parse_string
from servers.kaggle_server import KaggleServer
from servers.tfhub_server import TfhubServer

SECRET = "tok-good"
HANDLE = "tfhub:google/imagenet/mobilenet_v2_100_224/classification/5"
MOVED = "kaggle:google/mobilenet-v2/tensorFlow2/100-224-classification/2"

CARD = """MobileNet V2 trained on ImageNet.

## Citation

```bibtex
@inproceedings{sandler2018mobilenetv2,
  title={MobileNetV2: Inverted Residuals and Linear Bottlenecks},
  author={Sandler, Mark and Howard, Andrew and Zhu, Menglong and Zhmoginov, Andrey and Chen, Liang-Chieh},
  booktitle={CVPR},
  year={2018},
  eprint={1801.04381},
  archivePrefix={arXiv}
}
```
"""


@pytest.fixture
def hubs(monkeypatch):
    with TfhubServer() as tfhub, KaggleServer(token=SECRET) as kaggle:
        next(m for m in kaggle.models if m["slug"] == "mobilenet-v2")["description"] = CARD
        monkeypatch.setenv("ZOOFIND_TFHUB_ENDPOINT", tfhub.url)
        monkeypatch.setenv("ZOOFIND_KAGGLE_ENDPOINT", kaggle.url)
        monkeypatch.setenv("KAGGLE_API_TOKEN", SECRET)
        yield tfhub, kaggle


def test_a_handle_is_cited_from_the_card_of_the_page_it_moved_to(cli, hubs) -> None:
    r = cli("cite", HANDLE)
    assert r.code == 0, r.stderr
    entry = parse_string(r.stdout, "bibtex").entries["sandler2018mobilenetv2"]
    assert (entry.type, entry.fields["eprint"]) == ("inproceedings", "1801.04381")
    assert f"{HANDLE}: its card is that of the page it moved to, {MOVED}" in r.stderr


def test_offline_both_answers_come_from_the_cache_else_a_note(cli, hubs) -> None:
    tfhub, kaggle = hubs
    first = cli("cite", HANDLE, "--offline")
    assert first.code == 0, first.stderr
    assert "where its tfhub.dev handle moved is not in zoofind's answer cache" in first.stderr
    assert "@misc{" in first.stdout and tfhub.requests == [] and kaggle.requests == []
    assert cli("cite", HANDLE).code == 0
    seen = (len(tfhub.requests), len(kaggle.requests))
    again = cli("cite", HANDLE, "--offline")
    assert again.code == 0 and "sandler2018mobilenetv2" in again.stdout
    assert (len(tfhub.requests), len(kaggle.requests)) == seen  # zero requests


def test_a_handle_that_was_not_migrated_says_so_and_is_cited_as_itself(cli, hubs) -> None:
    r = cli("cite", "tfhub:google/universal-sentence-encoder-qa-ondevice/1")
    assert r.code == 0, r.stderr
    assert "tfhub.dev keeps no card for it and it moved to no model page" in r.stderr
    assert "@misc{" in r.stdout


def test_a_page_it_moved_to_that_is_gone_is_a_note_not_a_failed_run(cli, hubs) -> None:
    _, kaggle = hubs
    kaggle.models[:] = [m for m in kaggle.models if m["slug"] != "mobilenet-v2"]
    r = cli("cite", HANDLE, "torchvision:resnet50")  # the other id is still cited
    assert r.code == 0, r.stderr
    assert f"its card moved to {MOVED}, which could not be read: " in r.stderr
    assert "@misc{" in r.stdout and "Deep Residual Learning" in r.stdout
