"""Two workers on 127.0.0.1 train one short epoch with MultiWorkerMirroredStrategy (CPU)."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.datasets import make_carvana


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


@pytest.mark.slow
def test_two_workers_finish_and_the_chief_writes_the_run(tmp_path: Path) -> None:
    data = make_carvana(tmp_path / "d", cars=4, views=4, test=0)
    ports = _free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    procs = []
    for index in range(2):
        env = dict(os.environ, TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}))
        cmd = [sys.executable, "-m", "carseg_gui.cli", "train", str(data), "--project", str(tmp_path / f"p{index}")]
        cmd += ["--strategy", "multiworker", "--epochs", "2", "--size", "32", "--filters", "4", "--batch-size", "4"]
        cmd += ["--val-split", "0.25", "--mixed-precision", "off"]
        procs.append(subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outs = []
    try:
        for p in procs:
            outs.append(p.communicate(timeout=300))
    finally:
        for p in procs:
            p.kill()
    for p, (_out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err[-2000:]
    chief_runs = list((tmp_path / "p0" / "runs").iterdir())
    assert len(chief_runs) == 1
    run = chief_runs[0]
    assert (run / "model.keras").exists()
    history = json.loads((run / "history.json").read_text())
    assert len(history) == 2 and {"loss", "val_loss", "val_dice"} <= set(history[0])
    assert json.loads((run / "config.json").read_text())["replicas"] == 2
    assert not list((tmp_path / "p1" / "runs").iterdir())  # the other worker keeps nothing
