"""The installed Keras's application weights, as catalog entries (``scripts/build_keras.py``).

Keras keeps no table of its weights files: each application computes its file name, URL and
``file_hash`` when it is built with ``weights="imagenet"`` and hands them to
``keras.utils.get_file``. ``collect()`` builds every application in every variant the id grammar
names (``variants``) and takes those arguments at that call, so the snapshot holds exactly what
Keras asks for; the networks are built on PyTorch's ``meta`` device (no memory, ~1 s each) and
nothing is downloaded. The parameter counts are the built networks'; the ImageNet accuracy and
depth are keras.io's published table (``KERAS_IO``), for the default variant only.
"""

from __future__ import annotations

import inspect
import os
import re
import sys
import warnings
from typing import Any

from .variants import canonical

#: keras.io's applications table (keras-team/keras-io, templates/api/applications/index.md):
#: application -> (ImageNet top-1 %, top-5 %, depth). ConvNeXt and MobileNetV3 are not in it.
KERAS_IO: dict[str, tuple[float, float, int | None]] = {
    "Xception": (79.0, 94.5, 81), "VGG16": (71.3, 90.1, 16), "VGG19": (71.3, 90.0, 19),
    "ResNet50": (74.9, 92.1, 107), "ResNet50V2": (76.0, 93.0, 103), "ResNet101": (76.4, 92.8, 209),
    "ResNet101V2": (77.2, 93.8, 205), "ResNet152": (76.6, 93.1, 311), "ResNet152V2": (78.0, 94.2, 307),
    "InceptionV3": (77.9, 93.7, 189), "InceptionResNetV2": (80.3, 95.3, 449), "MobileNet": (70.4, 89.5, 55),
    "MobileNetV2": (71.3, 90.1, 105), "DenseNet121": (75.0, 92.3, 242), "DenseNet169": (76.2, 93.2, 338),
    "DenseNet201": (77.3, 93.6, 402), "NASNetMobile": (74.4, 91.9, 389), "NASNetLarge": (82.5, 96.0, 533),
    "EfficientNetB0": (77.1, 93.3, 132), "EfficientNetB1": (79.1, 94.4, 186), "EfficientNetB2": (80.1, 94.9, 186),
    "EfficientNetB3": (81.6, 95.7, 210), "EfficientNetB4": (82.9, 96.4, 258), "EfficientNetB5": (83.6, 96.7, 312),
    "EfficientNetB6": (84.0, 96.8, 360), "EfficientNetB7": (84.3, 97.0, 438),
    "EfficientNetV2B0": (78.7, 94.3, None), "EfficientNetV2B1": (79.8, 95.0, None),
    "EfficientNetV2B2": (80.5, 95.1, None), "EfficientNetV2B3": (82.0, 95.8, None),
    "EfficientNetV2S": (83.9, 96.7, None), "EfficientNetV2M": (85.3, 97.4, None), "EfficientNetV2L": (85.7, 97.5, None),
}

#: The arguments that choose another weights file, per application (every one has include_top).
GRIDS: dict[str, tuple[dict[str, Any], ...]] = {
    "MobileNet": tuple({"alpha": a, "size": s} for a in (0.25, 0.5, 0.75, 1.0) for s in (128, 160, 192, 224)),
    "MobileNetV2": tuple({"alpha": a, "size": s} for a in (0.35, 0.5, 0.75, 1.0, 1.3, 1.4)
                         for s in (96, 128, 160, 192, 224)),
    "MobileNetV3Small": tuple({"alpha": a, "minimalistic": m} for a in (0.75, 1.0) for m in (False, True)),
    "MobileNetV3Large": tuple({"alpha": a, "minimalistic": m} for a in (0.75, 1.0) for m in (False, True)),
}
#: Applications Keras refuses to build under the torch backend: asked under a stand-in that names
#: another backend, and their entries say so.
NOT_ON_TORCH = ("NASNetMobile",)
LICENCE_NOTE = ("Keras is Apache-2.0; keras.applications names no licence for these weights, which may carry the "
                "terms of their training data (ImageNet) or original release.")


TORCH_NOTE = " Keras {version} refuses to build {app} under the torch backend: load it under tensorflow or jax."
UNHASHED_NOTE = (" Keras's tables have no hash for this file: Keras loads whatever bytes are there; zoofind checks "
                 "the size the server announces and, with a lock, the locked sha256.")


class _Asked(Exception):
    """Raised from the stand-in for get_file once it has recorded what Keras asked for."""

    def __init__(self, call: dict[str, Any], model: Any) -> None:
        self.call, self.model = call, model


def _ask(fn: Any, kwargs: dict[str, Any]) -> _Asked | None:
    try:
        fn(weights="imagenet", **kwargs)
    except _Asked as asked:
        return asked
    except (ValueError, KeyError):
        return None  # a combination Keras has no weights for (MobileNetV3 minimalistic at alpha 0.75)
    raise RuntimeError(f"{fn.__name__}({kwargs}) did not ask for a weights file")


class _OtherBackend:
    """The ``keras.src.backend`` module as an application module sees it, naming the jax backend."""

    def __init__(self, real: Any) -> None:
        self._real = real

    def backend(self) -> str:
        return "jax"

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def _architecture(module: str) -> str:
    """The family of an application's module: resnet_v2 -> resnet, vgg16 -> vgg."""
    return re.sub(r"(_v\d+|\d+)$", "", module)


def _entry(app: str, module: str, opts: dict[str, Any], top: bool, asked: _Asked, default_size: int | None,
           version: str) -> dict[str, Any]:
    file_hash = asked.call.get("file_hash")
    ref = canonical(app, alpha=opts.get("alpha"), size=opts.get("size"),
                    minimalistic=bool(opts.get("minimalistic")), include_top=top)
    size = opts.get("size") or default_size
    published = KERAS_IO.get(app) if ref == canonical(app) else None
    call_args = [*(f"{k}={v!r}" for k, v in opts.items() if k in ("alpha", "minimalistic")),
                 *([f"input_shape=({size}, {size}, 3)"] if "size" in opts else []),
                 *([] if top else ["include_top=False"]), 'weights="imagenet"']
    variant = " ".join(p for p in (f"alpha {opts['alpha']}" if "alpha" in opts else "",
                                   f"{opts['size']}px" if "size" in opts else "",
                                   "minimalistic" if opts.get("minimalistic") else "") if p)
    what = ("Image classification weights" if top else "Feature-extraction weights (include_top=False: no classifier)")
    accuracy = f", ImageNet top-1 {published[0]}% as keras.io publishes" if published else ""
    extra: dict[str, Any] = {
        "application": app, "module": module, "include_top": top, "default": ref == canonical(app),
        **{k: v for k, v in opts.items() if k in ("alpha", "minimalistic")},
        "call": f"keras.applications.{app}({', '.join(call_args)})",
        "file": asked.call["fname"], "url": asked.call["origin"],
    }
    if size:
        extra["input_size"] = [size, size]
    if file_hash:
        extra["file_hash"] = file_hash
        extra["hash_algorithm"] = "sha256" if len(file_hash) == 64 else "md5"  # get_file's "auto", by length
    if published:
        extra["metrics"] = {"ImageNet-1K": {"acc@1": published[0], "acc@5": published[1]}}
        if published[2]:
            extra["depth"] = published[2]
    entry: dict[str, Any] = {
        "id": f"keras:{ref}",
        "kind": "model",
        "name": f"{app}{' ' + variant if variant else ''}{'' if top else ' without top'} (ImageNet)",
        "description": f"{what} for {app} from keras.applications, trained on ImageNet-1K"
                       f"{f'; input {size}x{size}' if size else ''}{accuracy}.",
        "tasks": ["image-classification"] if top else ["image-feature-extraction"],
        "frameworks": ["keras"],
        "libraries": ["keras"],
        "architecture": [_architecture(module)],
        "datasets": ["ImageNet-1K"],
        "params": int(asked.model.count_params()),
        "tags": sorted({app.lower(), module, "imagenet", "keras-applications", "classification" if top else "notop"}),
        "reliability": "generated",
        "evidence": f"keras {version} keras.applications (the arguments each application passes to get_file)",
        "notes": LICENCE_NOTE + (TORCH_NOTE.format(version=version, app=app) if app in NOT_ON_TORCH else "")
        + ("" if file_hash else UNHASHED_NOTE),
        "extra": extra,
    }
    return entry


def collect() -> tuple[str, list[dict[str, Any]]]:
    """(Keras version, one entry per weights file of every application), sorted by id.

    Imports keras under the torch backend (seconds); the caller sets nothing up.
    """
    os.environ.setdefault("KERAS_BACKEND", "torch")
    os.environ.setdefault("KERAS_TORCH_DEVICE", "meta")  # build without allocating the weights
    # lazy: build-time only (scripts/build_keras.py): keras takes seconds to import, never on a command's path
    import keras
    from keras.src.utils import file_utils

    def asked(fname: str | None = None, origin: str | None = None, **kwargs: Any) -> str:
        # The application's own frame holds the model it built before asking for its weights.
        caller = inspect.currentframe()
        model = caller.f_back.f_locals.get("model") if caller is not None and caller.f_back is not None else None
        raise _Asked({"fname": fname, "origin": origin, **kwargs}, model)

    real, file_utils.get_file = file_utils.get_file, asked
    entries: list[dict[str, Any]] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for app in sorted(n for n in dir(keras.applications) if n[:1].isupper()):
                fn = getattr(keras.applications, app)
                module = fn.__module__.rsplit(".", 1)[-1]
                home = sys.modules[fn.__module__]
                if app in NOT_ON_TORCH:
                    home.backend = _OtherBackend(home.backend)  # type: ignore[attr-defined]
                default_size: int | None = None
                for opts in GRIDS.get(app, ({},)):
                    for top in (True, False):
                        kwargs = {k: v for k, v in opts.items() if k != "size"}
                        if "size" in opts:
                            kwargs["input_shape"] = (opts["size"], opts["size"], 3)
                        got = _ask(fn, {**kwargs, "include_top": top})
                        if got is None:
                            continue
                        shape = tuple(got.model.input_shape)
                        if top and isinstance(shape[1], int) and not opts:
                            default_size = shape[1]
                        m = re.search(r"_(\d+)_[\d.]+_float", got.call["fname"])  # MobileNetV3 names its size
                        entries.append(_entry(app, module, opts, top, got, default_size or (int(m[1]) if m else None),
                                              keras.__version__))
                if app in NOT_ON_TORCH:
                    home.backend = home.backend._real  # type: ignore[attr-defined]
    finally:
        file_utils.get_file = real
    entries.sort(key=lambda e: e["id"])
    ids = [e["id"] for e in entries]
    if len(set(ids)) != len(ids):
        raise ValueError("two weights files map to one id")
    return keras.__version__, entries
