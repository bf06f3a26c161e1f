"""Build catalog/torchhub.toml (a snapshot layer) from pytorch.org/hub's model pages.

    python scripts/build_torchhub.py                   # a shallow clone of github.com/pytorch/hub
    python scripts/build_torchhub.py --pages DIR       # the *.md pages of a checkout (or copies of them)
    python scripts/build_torchhub.py --check [--pages DIR]   # exit 1 if the file differs from a rebuild
    ... --hubconfs DIR    # each repository's hubconf.py as <owner>_<repo>.py, and DIR/SOURCES

Each page of the pytorch/hub repository is one model card of pytorch.org/hub: a front matter
(``title``, ``summary``, ``author``, ``tags: [vision, ...]``, ``github-link``, ``github-id``,
``category``, ``featured_image_1``...) between ``---`` lines, then markdown whose python blocks
call ``torch.hub.load('owner/repo[:ref]', 'entry', ...)`` (positionally, or as ``repo_or_dir=``
and ``model=``; an entry held in a variable assigned a literal in the same block is read too).
Pages whose front matter names no GitHub repository, and the repository's own files
(README, template), and the repositories in ``SKIP_REPOS`` are left out. Each entry is ``torchhub:owner/repo[:ref]/<first entry>``
with every entry point the page loads; the task comes from the curated table ``TASKS`` below.

``--hubconfs DIR`` backs the entry points with the repositories' own ``hubconf.py`` (copies named
``<owner>_<repo>.py``; ``DIR/SOURCES`` says where each was read: ``owner/repo commit date`` a line).
Each is read as text by zoofind's own reader (``zoofind.hubs.torchhub.hubconf``: never imported,
never run): a page's entry point that the hubconf.py does not define is dropped (and said), the
entry records every entry point the hubconf.py defines (``extra.hubconf_entrypoints``) and the
commit it was read at (``evidence``). Repositories with a hubconf.py but no page on pytorch.org/hub
(``NO_PAGE``: DINOv2, DETR) get an entry from their hubconf.py and the curated words below.
"""

from __future__ import annotations

import argparse
import ast
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "catalog" / "torchhub.toml"
sys.path.insert(0, str(ROOT / "src"))
SKIP = {"README.md", "CONTRIBUTING.md", "template.md", "Readme.md"}
#: Repositories whose pages only re-export a registry zoofind already indexes with its weights and
#: metrics (pytorch/vision's hubconf.py imports torchvision's builders): their entries would make
#: bare names such as ``resnet18`` ambiguous between two ids for the same weights.
SKIP_REPOS = {"pytorch/vision"}
CODE = "torch.hub.load runs this repository's hubconf.py"
#: Pages that name a repository by its old address (GitHub redirects it): the hubconf.py is read at the new one.
MOVED = {"intel-isl/MiDaS": "isl-org/MiDaS"}
#: Well-known hubconf.py repositories with no page on pytorch.org/hub: the words of their READMEs.
NO_PAGE: dict[str, dict[str, Any]] = {
    "facebookresearch/dinov2": {
        "name": "DINOv2", "entry": "dinov2_vits14", "task": "image-feature-extraction", "tags": ["vision"],
        "author": "Meta AI (FAIR)",
        "description": "Self-supervised vision transformers (ViT-S/B/L/g, with and without registers) giving "
                       "general-purpose image features, plus linear classification, depth and dino.txt heads.",
    },
    "facebookresearch/detr": {
        "name": "DETR", "entry": "detr_resnet50", "task": "object-detection", "tags": ["vision"],
        "author": "Facebook AI Research",
        "description": "End-to-end object detection with transformers (ResNet-50/101, DC5), trained on COCO; "
                       "panoptic segmentation variants.",
    },
}
#: Words of a page's title or summary -> the task (first match wins), then its tags' default.
TASKS = (
    ("depth", "depth-estimation"), ("segmentation", "image-segmentation"), ("source separation", "audio-to-audio"),
    ("voice activity", "voice-activity-detection"), ("speech-to-text", "automatic-speech-recognition"),
    ("text-to-speech", "text-to-speech"), ("yolo", "object-detection"), ("detect", "object-detection"),
    ("kinetics", "video-classification"), ("video", "video-classification"), ("translation", "translation"),
    ("gan", "unconditional-image-generation"), ("imagenet", "image-classification"),
    ("classif", "image-classification"),
)
DOMAINS = (("mri", "medical imaging"), ("brain", "medical imaging"), ("biomedical", "medical imaging"))


def front_matter(text: str) -> dict[str, Any]:
    m = re.match(r"---\s*\n(.*?)\n---\s*\n", text, re.S)
    out: dict[str, Any] = {}
    for line in (m[1].splitlines() if m else []):
        key, sep, value = line.partition(":")
        if not sep or line.startswith((" ", "<!--")):
            continue
        value = value.strip().strip("\"'“”")
        if value.startswith("[") and value.endswith("]"):
            out[key.strip()] = [v.strip().strip("\"'") for v in value[1:-1].split(",") if v.strip()]
        else:
            out[key.strip()] = value
    return out


def loads(text: str) -> list[tuple[str, str]]:
    """(repo[:ref], entry) of every ``torch.hub.load`` with literal arguments in the page's python blocks."""
    found: list[tuple[str, str]] = []
    for block in re.findall(r"```python[^\n]*\n(.*?)```", text, re.S):
        try:
            tree = ast.parse(block)
        except SyntaxError:
            continue
        names = {t.id: n.value.value for n in ast.walk(tree) if isinstance(n, ast.Assign)
                 and isinstance(n.value, ast.Constant) and isinstance(n.value.value, str)
                 for t in n.targets if isinstance(t, ast.Name)}
        for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
            f = call.func
            if not (isinstance(f, ast.Attribute) and f.attr == "load" and isinstance(f.value, ast.Attribute)
                    and f.value.attr == "hub"):
                continue
            kw = {k.arg: k.value for k in call.keywords if k.arg}
            repo = call.args[0] if call.args else kw.get("repo_or_dir") or kw.get("github")
            model = call.args[1] if len(call.args) > 1 else kw.get("model")
            values = [v.value if isinstance(v, ast.Constant) else names.get(v.id) if isinstance(v, ast.Name) else None
                      for v in (repo, model)]
            if all(isinstance(v, str) for v in values):
                found.append((str(values[0]), str(values[1])))
    return found


def repo_of(meta: dict[str, Any], calls: list[tuple[str, str]]) -> str | None:
    gid = meta.get("github-id")
    if isinstance(gid, str) and re.fullmatch(r"[\w.-]+/[\w.-]+", gid):
        return gid
    if calls:
        return calls[0][0].split(":", 1)[0]
    m = re.match(r"https://github\.com/([\w.-]+)/([\w.-]+)", str(meta.get("github-link", "")))
    return f"{m[1]}/{m[2]}" if m else None


def entry(page: Path) -> dict[str, Any] | None:
    text = page.read_text(encoding="utf-8", errors="replace")
    meta = front_matter(text)
    calls = loads(text)
    repo = repo_of(meta, calls)
    if not meta.get("title") or repo is None or repo in SKIP_REPOS:
        return None
    mine = [(r, e) for r, e in calls if r.split(":", 1)[0] == repo] or []
    entries = list(dict.fromkeys(e for _, e in mine if re.fullmatch(r"[A-Za-z_]\w*", e)))
    at = next((r.split(":", 1)[1] for r, _ in mine if ":" in r), None)
    rid = f"torchhub:{repo}" + (f":{at}" if at else "") + (f"/{entries[0]}" if entries else "")
    words = f"{meta['title']} {meta.get('summary', '')}".lower()
    tags = [t for t in meta.get("tags", []) if isinstance(t, str)]
    task = next((t for w, t in TASKS if w in words), None) or {"audio": "audio-classification",
                                                              "nlp": "text-generation"}.get(tags[0] if tags else "")
    out: dict[str, Any] = {
        "id": rid, "kind": "model", "name": meta["title"], "description": meta.get("summary", ""),
        "url": f"https://pytorch.org/hub/{page.stem}/",
        "tasks": [task] if task else [], "domains": sorted({d for w, d in DOMAINS if w in words}),
        "frameworks": ["pytorch"], "libraries": ["pytorch"], "tags": [*tags, "torch.hub"], "remote_code": True,
        "reliability": "generated", "evidence": str(meta.get("github-link") or f"https://github.com/{repo}"),
        "notes": f"code: {CODE}.",
        "extra": {"entrypoints": entries, "github": repo, "author": meta.get("author", ""), "code": CODE},
    }
    return {k: v for k, v in out.items() if v not in ("", [], None)}


def hubconfs(folder: Path | None) -> dict[str, tuple[tuple[str, ...], str]]:
    """repo -> (the entry points its hubconf.py defines, where it was read), from ``--hubconfs``."""
    if folder is None:
        return {}
    from zoofind.hubs.torchhub.hubconf import read

    out = {}
    for line in (folder / "SOURCES").read_text(encoding="utf-8").splitlines():
        repo, commit, date = line.split()
        conf = read((folder / f"{repo.replace('/', '_', 1)}.py").read_text(encoding="utf-8"))
        if conf.problem:
            raise SystemExit(f"{repo}: its hubconf.py cannot be read: {conf.problem}")
        out[repo] = (conf.entries, f"hubconf.py at github.com/{repo} commit {commit[:12]} ({date})")
    return out


def backed(e: dict[str, Any], confs: dict[str, tuple[tuple[str, ...], str]]) -> dict[str, Any]:
    """A page's entry with its entry points checked against the repository's hubconf.py."""
    repo = e["extra"]["github"]
    conf = confs.get(MOVED.get(repo, repo))
    if conf is None:
        return e
    defined, where = conf
    kept = [x for x in e["extra"].get("entrypoints", []) if x in defined]
    for gone in sorted(set(e["extra"].get("entrypoints", [])) - set(kept)):
        print(f"{e['id']}: {gone!r} is not an entry point of the {where}: dropped")
    e = {**e, "evidence": f"{e['evidence']}; {where}"}
    e["extra"] = {**e["extra"], "entrypoints": kept, "hubconf_entrypoints": list(defined)}
    return e


def without_page(repo: str, conf: tuple[tuple[str, ...], str]) -> dict[str, Any]:
    words = NO_PAGE[repo]
    defined, where = conf
    if words["entry"] not in defined:
        raise SystemExit(f"{repo}: {words['entry']!r} is not an entry point of its {where}")
    return {
        "id": f"torchhub:{repo}/{words['entry']}", "kind": "model", "name": words["name"],
        "description": words["description"], "url": f"https://github.com/{repo}", "tasks": [words["task"]],
        "frameworks": ["pytorch"], "libraries": ["pytorch"], "tags": [*words["tags"], "torch.hub"],
        "remote_code": True, "reliability": "generated", "evidence": where, "notes": f"code: {CODE}.",
        "extra": {"entrypoints": list(defined), "hubconf_entrypoints": list(defined), "github": repo,
                  "author": words["author"], "code": CODE},
    }


def pages_from_github() -> tuple[Path, str]:
    tmp = Path(tempfile.mkdtemp(prefix="pytorch-hub-"))
    subprocess.run(["git", "clone", "--depth", "1", "https://github.com/pytorch/hub", str(tmp)], check=True)
    return tmp, "github.com/pytorch/hub (a shallow clone)"


def render(entries: list[dict[str, Any]], source: str) -> str:
    import tomli_w

    header = (f"# Generated by scripts/build_torchhub.py from {source}; do not edit by hand.\n"
              "# Regenerate: python scripts/build_torchhub.py\n\n")
    meta = {"layer": "snapshot", "generated_by": "scripts/build_torchhub.py", "source": source,
            "count": len(entries),
            "description": "pytorch.org/hub's model pages (PyTorch Hub repositories and their entry points), for "
                           "offline search. Loading any of them runs the repository's hubconf.py."}
    return header + tomli_w.dumps({"meta": meta, "entry": entries})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=Path, help="a folder of pytorch/hub's *.md pages")
    parser.add_argument("--source", help="what to say the pages are (default: the folder)")
    parser.add_argument("--hubconfs", type=Path, help="a folder of hubconf.py copies and their SOURCES")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    confs = hubconfs(args.hubconfs)
    folder, source = (args.pages, args.source or str(args.pages)) if args.pages else pages_from_github()
    seen: set[str] = set()
    entries = []
    for page in sorted(folder.glob("*.md")):
        e = None if page.name in SKIP else entry(page)
        if e is not None and e["id"] not in seen:
            seen.add(e["id"])
            entries.append(backed(e, confs))
    entries += [without_page(repo, confs[repo]) for repo in NO_PAGE if repo in confs]
    text = render(entries, source)
    if args.check:
        same = OUT.exists() and OUT.read_text(encoding="utf-8") == text
        print("catalog/torchhub.toml is up to date" if same else "catalog/torchhub.toml is stale")
        return 0 if same else 1
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT} ({len(entries)} entries)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
