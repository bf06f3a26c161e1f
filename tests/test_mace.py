"""mace-torch referees what zoofind places for it (hubs/ghrelease/loaders/mace.toml).

A tiny real MACE model, built with mace-torch's own classes, is served from the local GitHub release
server as MACE-MPA-0's asset; ``zoofind pull`` places it, and ``mace_mp(model="medium-mpa-0")`` loads it
under a socket guard that fails any connection and gives the energy the model gives read from its own
file. Every row of zoofind's table is then held against mace-torch's own tables and its own path rule:
with a file at the place zoofind names, each of mace-torch's calls takes that file with no request
(and without one, the guard stops its download).
mace-torch is imported only in the referee's own processes (its import sets a torch.load switch)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from servers.github_server import GitHubServer

GUARD = ("import socket\n"
         "def _blocked(*a, **k): raise OSError('the test blocks the network')\n"
         "socket.socket.connect = _blocked; socket.create_connection = _blocked\n")

BUILD = r"""
import sys
import mace  # first: it lets torch.load read e3nn's constants and MACE's pickled modules
import numpy as np, torch
from ase import Atoms
from e3nn import o3
from mace import modules
from mace.calculators import MACECalculator

torch.manual_seed(0)
block = modules.interaction_classes["RealAgnosticResidualInteractionBlock"]
model = modules.ScaleShiftMACE(
    atomic_inter_scale=1.0, atomic_inter_shift=0.0, r_max=4.0, num_bessel=4, num_polynomial_cutoff=3, max_ell=1,
    interaction_cls=block, interaction_cls_first=block, num_interactions=1, num_elements=2,
    hidden_irreps=o3.Irreps("4x0e"), MLP_irreps=o3.Irreps("4x0e"), gate=torch.nn.functional.silu,
    atomic_energies=np.array([-1.0, -2.0]), avg_num_neighbors=4.0, atomic_numbers=[1, 8], correlation=2)
torch.save(model, sys.argv[1])
water = Atoms("H2O", positions=[[0, 0, 0], [0.96, 0, 0], [-0.24, 0.93, 0]])
water.calc = MACECalculator(model_paths=sys.argv[1], device="cpu", default_dtype="float64")
print(repr(water.get_potential_energy()))
"""

LOAD = r"""
from ase import Atoms
from mace.calculators import mace_mp
calc = mace_mp(model="medium-mpa-0", device="cpu", default_dtype="float64")
water = Atoms("H2O", positions=[[0, 0, 0], [0.96, 0, 0], [-0.24, 0.93, 0]])
water.calc = calc
print("energy", repr(water.get_potential_energy()))
"""

# Each row: with a file where zoofind places it, mace-torch's own code for that call names that file.
TABLES = r"""
import json, re, sys
from pathlib import Path
import mace
from mace.calculators import foundations_models as fm
import mace.tools.multihead_tools as mh

rows = json.loads(sys.argv[1])
try:  # the guard is real: without its file, mace_mp downloads and is stopped
    fm.download_mace_mp_checkpoint("small")
    raise AssertionError("mace_mp('small') found a file before the test put one")
except OSError as exc:
    assert "the test blocks the network" in str(exc), exc
urls = {u for u in [*fm.mace_mp_urls.values(), *fm.polar_model_urls.values()]}
missing = urls - {r["url"] for r in rows}
assert not missing, f"mace-torch downloads assets zoofind's table lacks: {sorted(missing)}"

class Stop(Exception):
    pass

def stop(**kw):
    raise Stop(kw.get("model_paths") or kw.get("configs_pt"))

fm.MACECalculator = stop  # mace_omol's path, without loading the file
mh.SelectionSettings, mh.FilteringType, mh.SubselectType = stop, str, str  # the replay data's path

class Args:
    def __getattr__(self, name):
        return None

def path_of(call, key):
    try:
        if call == "mace_mp":
            assert fm.mace_mp_urls[key] == row["url"], key
            return fm.download_mace_mp_checkpoint(key)
        if call == "mace_polar":
            assert fm.polar_model_urls[key] == row["url"], key
            return fm.download_mace_polar_checkpoint(key)
        if call == "mace_omol":
            fm.mace_omol(model=key, device="cpu")
        if call == "mace_run_train":
            mh.assemble_replay_data(key, Args(), None, "t")
    except (Stop, RuntimeError) as exc:
        stopped = exc if isinstance(exc, Stop) else exc.__cause__
        assert isinstance(stopped, Stop), repr(exc)
        return stopped.args[0]
    raise AssertionError(f"{call}({key!r}) went past the file")

for row in rows:
    Path(row["place"]).parent.mkdir(parents=True, exist_ok=True)
    Path(row["place"]).write_bytes(b"")
    m = re.fullmatch(r"(mace_mp|mace_polar|mace_omol)\(model='([^']+)'\)", row["load"]) or re.fullmatch(
        r"(mace_run_train) --multiheads_finetuning=True --pt_train_file=(\w+)", row["load"])
    assert m, row["load"]
    got = str(path_of(*m.groups()))
    assert got == row["place"], (row["load"], got, row["place"])
print("checked", len(rows))
"""


def mace_run(code: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", GUARD + code, *args], capture_output=True, text=True,
                          timeout=600, env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, float]:
    """A MACE model built by mace-torch's classes (two elements, one interaction: 140 kB), and the
    energy it gives a water molecule read from its own file."""
    out = tmp_path_factory.mktemp("mace") / "tiny.model"
    done = mace_run(BUILD, str(out))
    assert done.returncode == 0, done.stderr[-3000:]
    return out.read_bytes(), float(done.stdout.split()[-1])


def test_mace_mp_loads_what_zoofind_placed_with_no_request(tiny, hermetic, monkeypatch, cli) -> None:
    data, energy = tiny
    with GitHubServer() as server:
        server.add_release("ACEsuit", "mace-mp", "mace_mpa_0", {"mace-mpa-0-medium.model": data}, title="MACE-MPA-0")
        monkeypatch.setenv("ZOOFIND_GITHUB_ENDPOINT", server.url)
        ran = cli("pull", "ghrelease:ACEsuit/mace-mp/mace_mpa_0/mace-mpa-0-medium.model")
        assert ran.code == 0, ran.stderr
        placed = Path(os.environ["XDG_CACHE_HOME"]) / "mace" / "macempa0mediummodel"
        assert ran.stdout.split("\t")[1].strip() == str(placed) and placed.read_bytes() == data
        before = len(server.log()) + len(server.objects.log())
        done = mace_run(LOAD)
        assert done.returncode == 0, done.stderr[-3000:]
        assert "Downloading" not in done.stdout and f"with {placed}" in done.stdout
        assert float(done.stdout.split()[-1]) == pytest.approx(energy, rel=1e-9)
        assert len(server.log()) + len(server.objects.log()) == before


def test_every_row_names_the_file_mace_torchs_own_code_reads(hermetic) -> None:
    from zoofind.hubs.ghrelease import loaders

    env = dict(os.environ)
    rows = [{"url": f"https://github.com/{r.ref.owner}/{r.ref.repo}/releases/download/{r.ref.tag}/{r.ref.asset}",
             "load": r.load, "place": str(r.place(env))} for r in loaders.table().values()]
    done = mace_run(TABLES, json.dumps(rows))
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split()[-1] == str(len(rows))
