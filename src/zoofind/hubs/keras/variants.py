"""The id grammar of Keras applications: ``keras:<Application>[/<option>...]``.

A Keras application loads one weights file per combination of the arguments that change the
network: ``include_top`` always, ``alpha`` and the input size for MobileNet and MobileNetV2,
``alpha`` and ``minimalistic`` for MobileNetV3. Each combination is its own id, because each is
its own file (VGG16 with its top is 528 MB, without it 56 MB: one should not fetch the other):

* ``keras:ResNet50``: ``ResNet50(weights="imagenet")``;
* ``keras:ResNet50/notop``: ``ResNet50(weights="imagenet", include_top=False)``;
* ``keras:MobileNet/alpha0.25/size128/notop``: ``MobileNet(alpha=0.25, input_shape=(128, 128, 3),
  include_top=False, weights="imagenet")``;
* ``keras:MobileNetV3Small/alpha0.75/minimalistic``.

Options are written in any order and case, and Keras's defaults (``alpha1.0``, ``size224``) may be
written or left out: the canonical id leaves them out and orders the rest as above.

A KerasHub preset is ``keras:preset/<name>``, the name ``keras_hub.models.X.from_preset(name)``
takes (``keras:preset/bert_tiny_en_uncased``), spelled as keras_hub spells it (``esm2_t6_8M``;
a lookup folds case). Each is one family of its own.
"""

from __future__ import annotations

import re

from ...core.errors import UsageError

OPTIONS = ("alpha", "size", "minimalistic", "notop")
#: The word that says a ref names a KerasHub preset, not an application.
PRESET = "preset"
_PRESET_NAME = r"[A-Za-z0-9][A-Za-z0-9_.-]*"
REF_PATTERN = (rf"{PRESET}/{_PRESET_NAME}"
               r"|[A-Za-z][A-Za-z0-9]*(?:/(?:alpha[0-9]+(?:\.[0-9]+)?|size[0-9]+|minimalistic|notop))*")
_DEFAULTS = {"alpha": "1.0", "size": "224"}
_OPTION_RE = re.compile(r"(alpha)([0-9]+(?:\.[0-9]+)?)|(size)([0-9]+)|(minimalistic)|(notop)")


def preset_name(ref: str) -> str | None:
    """The KerasHub preset a ref names (``preset/bert_tiny_en_uncased``), else None."""
    head, _, name = ref.partition("/")
    return name if head.lower() == PRESET and name else None


def application(ref: str) -> str:
    """The application a ref names (``MobileNet/alpha0.25/notop`` -> ``MobileNet``): its family
    (a preset is its own)."""
    preset = preset_name(ref)
    return f"{PRESET}/{preset}" if preset else ref.split("/", 1)[0]


def canonical(app: str, *, alpha: float | None = None, size: int | None = None, minimalistic: bool = False,
              include_top: bool = True) -> str:
    """The ref of one weights file: what ``normalise`` makes of any spelling of the same options."""
    parts = [app]
    if alpha is not None and repr(float(alpha)) != _DEFAULTS["alpha"]:
        parts.append(f"alpha{float(alpha)!r}")
    if size is not None and str(size) != _DEFAULTS["size"]:
        parts.append(f"size{size}")
    if minimalistic:
        parts.append("minimalistic")
    if not include_top:
        parts.append("notop")
    return "/".join(parts)


def normalise(ref: str) -> str:
    """A typed ref -> its canonical form; an option Keras has no weights argument for is a ``UsageError``."""
    preset = preset_name(ref.strip())
    if preset is not None:
        return f"{PRESET}/{preset}"
    app, *opts = ref.strip().split("/")
    found: dict[str, str] = {}
    for opt in opts:
        m = _OPTION_RE.fullmatch(opt.strip().lower())
        if m is None:
            raise UsageError(f"keras:{ref}: unknown option {opt!r}",
                             hint="options: alpha<A> (alpha0.25), size<N> (size128), minimalistic, notop; "
                                  "e.g. keras:MobileNet/alpha0.25/size128/notop")
        name = next(g for g in (m[1], m[3], m[5], m[6]) if g)
        if name in found:
            raise UsageError(f"keras:{ref}: option {name!r} given twice")
        found[name] = m[2] or m[4] or ""
    return canonical(app, alpha=float(found["alpha"]) if "alpha" in found else None,
                     size=int(found["size"]) if "size" in found else None,
                     minimalistic="minimalistic" in found, include_top="notop" not in found)
