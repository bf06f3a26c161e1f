"""Generate catalog/keras_hub.toml from the installed keras_hub's built-in presets.

One ``[[entry]]`` per preset keras_hub registers (``keras_hub/src/models/*/*_presets.py``, read
through ``preset_utils.BUILTIN_PRESETS_FOR_BACKBONE`` by ``zoofind.hubs.keras.presets``): its
id ``keras:preset/<name>``, description, parameter count, tasks (from the task classes over its
backbone) and the handle ``from_preset`` loads it from. Nothing is downloaded.

    python scripts/build_keras_hub.py [--output catalog/keras_hub.toml] [--check]

keras_hub installs without its TensorFlow dependencies for this (``pip install --no-deps keras-hub
regex tokenizers sentencepiece``); the script runs it under KERAS_BACKEND=torch.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

sys.path.insert(0, str(ROOT / "scripts"))

from build_keras import render as render_snapshot  # noqa: E402
from build_keras import write_or_check  # noqa: E402

from zoofind.hubs.keras.presets import collect  # noqa: E402

DEFAULT_OUTPUT = ROOT / "catalog" / "keras_hub.toml"


def render(entries: list[dict], version: str) -> str:
    return render_snapshot(entries, version, library="keras_hub", script="scripts/build_keras_hub.py",
                           description="Every built-in KerasHub preset (keras_hub.models.X.from_preset(name)) and "
                                       "the handle it loads from.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is out of date")
    args = parser.parse_args(argv)
    version, entries = collect()
    models = len({e["extra"]["model"] for e in entries})
    print(f"keras_hub {version}: {len(entries)} presets of {models} models")
    return write_or_check(args.output, render(entries, version), check=args.check, script="scripts/build_keras_hub.py")


if __name__ == "__main__":
    sys.exit(main())
