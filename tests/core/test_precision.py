"""``auto`` precision on a CPU is measured once per machine and cached (core/precision.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from carseg_gui.core import precision
from carseg_gui.core.jobs import Cancelled, CancelToken, Progress
from carseg_gui.core.precision import MARGIN, machine_key, measure_speeds, resolve_precision


class FakeTiming:
    """Stands in for the timing: returns fixed speeds and counts how often it was asked."""

    def __init__(self, float32: float, bfloat16: float) -> None:
        self.speeds = {"float32": float32, "mixed_bfloat16": bfloat16}
        self.calls = 0

    def __call__(self, cancel: CancelToken) -> dict[str, float]:
        self.calls += 1
        return dict(self.speeds)


@pytest.fixture
def timed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARSEG_PRECISION_PROBE", "on")  # the suite switches it off (conftest)


def test_off_on_and_gpu_need_no_timing() -> None:
    never = FakeTiming(1, 1)
    assert resolve_precision("off", "CPU", measure=never).policy == "float32"
    assert resolve_precision("on", "CPU", measure=never).policy == "mixed_bfloat16"
    assert resolve_precision("on", "GPU: H200", measure=never).policy == "mixed_float16"
    assert resolve_precision("auto", "GPU: H200", measure=never).policy == "mixed_float16"
    assert never.calls == 0


@pytest.mark.usefixtures("timed")
@pytest.mark.parametrize(("bf16", "policy"), [(40.0, "mixed_bfloat16"), (11.0, "float32"), (1.3, "float32")])
def test_auto_times_once_and_keeps_the_answer(tmp_path: Path, bf16: float, policy: str) -> None:
    cache = tmp_path / "cache" / "precision.json"  # its folder does not exist yet
    timing = FakeTiming(10.0, bf16)
    first = resolve_precision("auto", "CPU", measure=timing, path=cache)
    assert first.policy == policy and timing.calls == 1
    assert "measured now" in first.reason and f"{bf16 / 10:.2f}x" in first.reason
    entry = json.loads(cache.read_text())["entries"][machine_key()]
    assert entry["policy"] == policy and entry["float32_img_s"] == 10.0 and entry["bfloat16_img_s"] == bf16
    again = resolve_precision("auto", "CPU", measure=timing, path=cache)
    assert again.policy == policy and timing.calls == 1 and "measured earlier" in again.reason
    assert again.record() == {"precision_reason": again.reason, "precision_measured": again.measured}
    assert again.measured["ratio"] == pytest.approx(bf16 / 10, abs=1e-3)


@pytest.mark.usefixtures("timed")
def test_a_tie_goes_to_float32(tmp_path: Path) -> None:
    just_under = FakeTiming(10.0, 10.0 * MARGIN - 0.01)
    assert resolve_precision("auto", "CPU", measure=just_under, path=tmp_path / "p.json").policy == "float32"


@pytest.mark.usefixtures("timed")
def test_another_machines_answer_is_not_used(tmp_path: Path) -> None:
    cache = tmp_path / "p.json"
    other = {"policy": "mixed_bfloat16", "float32_img_s": 10.0, "bfloat16_img_s": 30.0, "ratio": 3.0}
    cache.write_text(json.dumps({"entries": {"probe 1 | another CPU | keras 0.1": other}}))
    timing = FakeTiming(10.0, 2.0)
    assert resolve_precision("auto", "CPU", measure=timing, path=cache).policy == "float32"
    assert timing.calls == 1
    entries = json.loads(cache.read_text())["entries"]
    assert set(entries) == {"probe 1 | another CPU | keras 0.1", machine_key()}  # both kept


@pytest.mark.usefixtures("timed")
@pytest.mark.parametrize(
    ("content", "noted"),
    [
        (b"\x00\xffgarbage", True),
        (b"", True),
        (b'{"entries": [1, 2]}', True),
        (b"[]", True),
        (b"null", True),
        (b'{"entries": {"KEY": {"policy": 8}}}', False),
        (b'{"entries": {"KEY": {"float32_img_s": true, "bfloat16_img_s": true}}}', False),
        (b'{"entries": {"KEY": {"float32_img_s": 0, "bfloat16_img_s": -3}}}', False),
    ],
)
def test_a_damaged_cache_is_measured_again(tmp_path: Path, content: bytes, noted: bool) -> None:
    cache = tmp_path / "p.json"
    cache.write_bytes(content.replace(b"KEY", machine_key().encode()))
    notes: list[Progress] = []
    timing = FakeTiming(10.0, 30.0)
    choice = resolve_precision("auto", "CPU", notes.append, measure=timing, path=cache)
    assert choice.policy == "mixed_bfloat16" and timing.calls == 1
    said = [p.info["notice"] for p in notes if p.stage == "notice"]
    if noted:  # the file is damaged: the note names it
        assert len(said) == 1 and str(cache) in said[0] and "again" in said[0]
    else:  # one entry is not a measurement (an older or foreign format): measured again without a fuss
        assert said == []
    assert json.loads(cache.read_text())["entries"][machine_key()]["policy"] == "mixed_bfloat16"  # mended


@pytest.mark.usefixtures("timed")
def test_the_choice_follows_the_cached_speeds_not_a_written_policy(tmp_path: Path) -> None:
    cache = tmp_path / "p.json"  # e.g. an answer kept under another MARGIN, or edited by hand
    entry = {"policy": "mixed_bfloat16", "float32_img_s": 10.0, "bfloat16_img_s": 1.3}
    cache.write_text(json.dumps({"entries": {machine_key(): entry}}))
    timing = FakeTiming(10.0, 30.0)
    choice = resolve_precision("auto", "CPU", measure=timing, path=cache)
    assert choice.policy == "float32" and "0.13x" in choice.reason and timing.calls == 0


@pytest.mark.usefixtures("timed")
def test_a_timing_that_fails_trains_in_float32_and_keeps_nothing(tmp_path: Path) -> None:
    def broken(cancel: CancelToken) -> dict[str, float]:
        raise RuntimeError("no bfloat16 kernel for Conv2D")

    notes: list[Progress] = []
    choice = resolve_precision("auto", "CPU", notes.append, measure=broken, path=tmp_path / "p.json")
    assert choice.policy == "float32" and "could not be timed" in choice.reason and "Conv2D" in choice.reason
    assert any(p.stage == "notice" and "training in float32" in p.info["notice"] for p in notes)
    assert not (tmp_path / "p.json").exists()  # measured again next time


@pytest.mark.usefixtures("timed")
def test_an_unwritable_cache_still_gives_a_choice(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    notes: list[Progress] = []
    choice = resolve_precision("auto", "CPU", notes.append, measure=FakeTiming(10.0, 30.0), path=blocker / "p.json")
    assert choice.policy == "mixed_bfloat16"
    assert any(p.stage == "notice" and "could not keep" in p.info["notice"] for p in notes)


def test_switched_off_or_multiworker_decides_by_the_flags(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    timing = FakeTiming(10.0, 30.0)
    monkeypatch.setattr(precision, "cpu_flags", lambda: {"avx512f", "avx512_bf16"})
    monkeypatch.setenv("CARSEG_PRECISION_PROBE", "off")
    choice = resolve_precision("auto", "CPU", measure=timing, path=tmp_path / "p.json")
    assert choice.policy == "mixed_bfloat16" and "CARSEG_PRECISION_PROBE" in choice.reason
    monkeypatch.setenv("CARSEG_PRECISION_PROBE", "on")
    monkeypatch.setattr(precision, "cpu_flags", lambda: {"avx2"})
    choice = resolve_precision("auto", "CPU", measure=timing, path=tmp_path / "p.json", timing=False)
    assert choice.policy == "float32" and "multi-worker" in choice.reason
    assert timing.calls == 0 and not (tmp_path / "p.json").exists()


def test_the_cache_lives_where_the_environment_says(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("CARSEG_PRECISION_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert precision.cache_path() == tmp_path / "carseg-gui" / "precision.json"
    monkeypatch.setenv("CARSEG_PRECISION_CACHE", str(tmp_path / "x.json"))
    assert precision.cache_path() == tmp_path / "x.json"


def test_the_timing_runs_both_policies_and_leaves_keras_as_it_was() -> None:
    import keras

    before = keras.mixed_precision.global_policy().name
    speeds = measure_speeds(CancelToken(), rounds=2, size=16, filters=4, batch=2, levels=1)
    assert set(speeds) == {"float32", "mixed_bfloat16"} and all(v > 0 for v in speeds.values())
    assert keras.mixed_precision.global_policy().name == before


def test_a_cancelled_timing_keeps_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARSEG_PRECISION_PROBE", "on")
    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(Cancelled):
        resolve_precision("auto", "CPU", cancel=cancel, path=tmp_path / "p.json")
    assert not (tmp_path / "p.json").exists()


def test_a_training_run_records_the_measured_choice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """train() with auto reads the cached timing (no new timing) and its run says which policy and why."""
    from carseg_gui.core.config import TrainConfig
    from carseg_gui.core.training import train
    from tests.datasets import make_carvana

    cache = tmp_path / "precision.json"
    entry = {"policy": "float32", "float32_img_s": 10.0, "bfloat16_img_s": 1.3, "ratio": 0.13}
    cache.write_text(json.dumps({"entries": {machine_key(): entry}}))
    monkeypatch.setenv("CARSEG_PRECISION_PROBE", "on")
    monkeypatch.setenv("CARSEG_PRECISION_CACHE", str(cache))
    monkeypatch.setattr(precision, "measure_speeds", lambda cancel: pytest.fail("timed again"))
    data = make_carvana(tmp_path / "d", cars=2, views=2, test=0)
    config = TrainConfig(epochs=1, size=32, filters=4, batch_size=4, val_split=0.5, precision="auto")
    run = train(data, tmp_path / "p", config)
    record = run.config
    assert record == json.loads((run.folder / "config.json").read_text())
    assert record["dtype_policy"] == "float32"
    assert record["precision_reason"].startswith("auto: float32") and "0.13x" in record["precision_reason"]
    assert record["precision_measured"]["bfloat16_img_s"] == 1.3


def test_arm_cpus_are_told_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    """ARM's /proc/cpuinfo has "Features" and part numbers, no "model name" or "flags"."""
    arm = "processor\t: 0\nFeatures\t: fp asimd bf16 sve\nCPU implementer\t: 0x41\nCPU part\t: 0xd40\n"
    monkeypatch.setattr(precision, "_cpuinfo", lambda: arm)
    assert precision.cpu_model() == "CPU implementer 0x41 CPU part 0xd40"
    assert {"bf16", "sve"} <= precision.cpu_flags()
    monkeypatch.setattr(precision, "_cpuinfo", lambda: "")  # no /proc at all
    assert precision.cpu_model() and precision.cpu_flags() == set()
