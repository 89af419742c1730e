"""weakstrong.devices: distinct CUDA_VISIBLE_DEVICES for concurrent local GPU jobs, with fake device counts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from weakstrong.devices import ENV_NUM_GPUS, GPUClaimError, claim_gpus, count_gpus, holders

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def gpus(monkeypatch, tmp_path):
    """Pretend the machine has N GPUs; returns (set_count, lock_dir)."""
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    lock_dir = tmp_path / "locks"

    def set_count(n: int) -> Path:
        monkeypatch.setenv(ENV_NUM_GPUS, str(n))
        return lock_dir

    return set_count


def _env(lock_dir: Path, n: int) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "CUDA_VISIBLE_DEVICES"}
    env.update({ENV_NUM_GPUS: str(n), "WEAKSTRONG_GPU_LOCK_DIR": str(lock_dir),
                "PYTHONPATH": os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])})
    return env


def _wait_for(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_zero_gpus_is_a_no_op(gpus):
    lock_dir = gpus(0)
    with claim_gpus(0, lock_dir=lock_dir) as devices:
        assert devices == []
        assert "CUDA_VISIBLE_DEVICES" not in os.environ
    assert not lock_dir.exists()


def test_preset_cuda_visible_devices_is_left_alone(gpus, monkeypatch):
    lock_dir = gpus(8)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "5,7")  # as Slurm sets it
    with claim_gpus(2, lock_dir=lock_dir) as devices:
        assert devices == []
        assert os.environ["CUDA_VISIBLE_DEVICES"] == "5,7"
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "5,7"
    assert not lock_dir.exists()


def test_claims_are_distinct_and_released(gpus):
    lock_dir = gpus(4)
    with claim_gpus(2, lock_dir=lock_dir) as first:
        assert first == [0, 1]
        assert os.environ["CUDA_VISIBLE_DEVICES"] == "0,1"
        saved = os.environ.pop("CUDA_VISIBLE_DEVICES")  # a second job in the same process, for the test
        with claim_gpus(2, lock_dir=lock_dir) as second:
            assert second == [2, 3]
            assert holders(lock_dir) == {d: str(os.getpid()) for d in range(4)}
            del os.environ["CUDA_VISIBLE_DEVICES"]
            with pytest.raises(GPUClaimError, match=r"only 0 of 4 are free"):
                with claim_gpus(1, lock_dir=lock_dir):
                    pass
        os.environ["CUDA_VISIBLE_DEVICES"] = saved
    assert "CUDA_VISIBLE_DEVICES" not in os.environ
    assert holders(lock_dir) == {0: None, 1: None, 2: None, 3: None}
    with claim_gpus(4, lock_dir=lock_dir) as all_four:
        assert all_four == [0, 1, 2, 3]


def test_too_few_devices_is_a_clear_error(gpus):
    lock_dir = gpus(1)
    with pytest.raises(GPUClaimError, match=r"needs 2 GPU\(s\) but the machine has 1 .*WEAKSTRONG_NUM_GPUS"):
        with claim_gpus(2, lock_dir=lock_dir):
            pass


def test_counts_devices_with_nvidia_smi(monkeypatch, tmp_path):
    monkeypatch.delenv(ENV_NUM_GPUS, raising=False)
    fake = tmp_path / "bin" / "nvidia-smi"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'GPU 0: Fake A100 (UUID: GPU-1)'\necho 'GPU 1: Fake A100 (UUID: GPU-2)'\n"
                    "echo '  MIG 1g.5gb Device 0: (UUID: MIG-1)'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    assert count_gpus() == 2
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert count_gpus() == 0


def test_concurrent_processes_get_disjoint_devices(gpus, tmp_path):
    """Four processes want 2 of 4 GPUs at once: two get disjoint pairs, two fail with a clear message."""
    lock_dir = gpus(4)
    release = tmp_path / "release"
    script = textwrap.dedent(f"""
        import os, sys, time
        from weakstrong.devices import claim_gpus, GPUClaimError
        out = sys.argv[1]
        try:
            with claim_gpus(2) as devices:
                open(out, "w").write("ok " + os.environ["CUDA_VISIBLE_DEVICES"])
                while not os.path.exists({str(release)!r}):
                    time.sleep(0.05)
        except GPUClaimError as e:
            open(out, "w").write("fail " + str(e))
    """)
    outs = [tmp_path / f"out{i}" for i in range(4)]
    procs = [subprocess.Popen([sys.executable, "-c", script, str(o)], env=_env(lock_dir, 4)) for o in outs]
    try:
        _wait_for(lambda: all(o.exists() and o.read_text() for o in outs))
        results = [o.read_text() for o in outs]
    finally:
        release.touch()
        assert [p.wait(timeout=30) for p in procs] == [0] * 4
    claimed = sorted(r.split()[1] for r in results if r.startswith("ok"))
    failed = [r for r in results if r.startswith("fail")]
    assert len(claimed) == 2 and len(failed) == 2, results
    assert sorted(",".join(claimed).split(",")) == ["0", "1", "2", "3"]  # disjoint, all four used
    assert all("only 0 of 4 are free" in f and "--resources gpu=N" in f for f in failed)


def test_waiting_jobs_take_turns(gpus, tmp_path):
    """Six processes, 4 GPUs, 1 each, willing to wait: never two holders of one device at a time."""
    lock_dir = gpus(4)
    script = textwrap.dedent("""
        import os, sys, time
        from weakstrong.devices import claim_gpus
        with claim_gpus(1, wait=30, poll=0.05) as devices:
            start = time.time(); time.sleep(0.4); end = time.time()
        open(sys.argv[1], "w").write(f"{devices[0]} {start} {end}")
    """)
    outs = [tmp_path / f"out{i}" for i in range(6)]
    procs = [subprocess.Popen([sys.executable, "-c", script, str(o)], env=_env(lock_dir, 4)) for o in outs]
    assert [p.wait(timeout=60) for p in procs] == [0] * 6
    spans = [o.read_text().split() for o in outs]
    spans = [(int(d), float(s), float(e)) for d, s, e in spans]
    for i, (d1, s1, e1) in enumerate(spans):
        for d2, s2, e2 in spans[i + 1:]:
            if d1 == d2:
                assert e1 <= s2 or e2 <= s1, spans


def test_killed_holder_leaves_no_stale_lock(gpus, tmp_path):
    lock_dir = gpus(2)
    ready = tmp_path / "ready"
    script = textwrap.dedent(f"""
        import time
        from weakstrong.devices import claim_gpus
        with claim_gpus(2):
            open({str(ready)!r}, "w").close()
            time.sleep(120)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], env=_env(lock_dir, 2))
    try:
        _wait_for(ready.exists)
        assert holders(lock_dir) == {0: str(proc.pid), 1: str(proc.pid)}
        with pytest.raises(GPUClaimError, match=rf"held by PIDs {{0: '{proc.pid}', 1: '{proc.pid}'}}"):
            with claim_gpus(1, lock_dir=lock_dir):
                pass
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    # The dead process's PID is still written in the files, but its locks went with it.
    assert (lock_dir / "gpu-0.lock").read_text().strip() == str(proc.pid)
    assert holders(lock_dir) == {0: None, 1: None}
    with claim_gpus(2, lock_dir=lock_dir) as devices:
        assert devices == [0, 1]


def test_run_command_holds_devices_until_it_exits(gpus, tmp_path):
    lock_dir = gpus(3)
    child = ("import os, subprocess, sys; print(os.environ['CUDA_VISIBLE_DEVICES']); sys.stdout.flush(); "
             "subprocess.run([sys.executable, '-m', 'weakstrong.devices', 'status']); sys.exit(7)")
    proc = subprocess.run([sys.executable, "-m", "weakstrong.devices", "run", "--gpus", "2", "--",
                           sys.executable, "-c", child], env=_env(lock_dir, 3), capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 7, proc.stderr  # the command's own exit status
    lines = proc.stdout.splitlines()
    assert lines[0] == "0,1"
    assert lines[1].startswith("gpu 0: held by pid") and lines[2].startswith("gpu 1: held by pid")
    assert lines[3] == "gpu 2: free"
    assert holders(lock_dir) == {0: None, 1: None, 2: None}


def test_run_command_reports_missing_devices(gpus):
    lock_dir = gpus(1)
    proc = subprocess.run([sys.executable, "-m", "weakstrong.devices", "run", "--gpus", "4", "--", "true"],
                          env=_env(lock_dir, 1), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 3
    assert "needs 4 GPU(s) but the machine has 1" in proc.stderr


def test_local_profile_caps_gpus_and_jobs_get_distinct_devices(tmp_path):
    """profiles/local with --resources gpu=2 on a fake 2-GPU machine: 1-GPU jobs run two at a time, each on
    its own device; a 2-GPU job gets both; a 4-GPU job is scaled down to the cap."""
    snakemake = REPO / ".venv" / "bin" / "snakemake"
    if not snakemake.exists():
        pytest.skip("no .venv/bin/snakemake")
    wd = tmp_path / "wf"
    wd.mkdir()
    (wd / "Snakefile").write_text(textwrap.dedent(f"""
        GPUS = {{"a": 1, "b": 1, "c": 1, "d": 1, "pair": 2, "big": 4}}

        rule all:
            input: expand("out/{{name}}.txt", name=GPUS)

        rule job:
            output: "out/{{name}}.txt"
            resources: gpu=lambda wc: GPUS[wc.name]
            shell:
                "{sys.executable} -m weakstrong.devices run --gpus {{resources.gpu}} -- "
                "sh -c 'echo {{resources.gpu}} $CUDA_VISIBLE_DEVICES $(date +%s.%N) > {{output}}; sleep 1; "
                "echo $(date +%s.%N) >> {{output}}'"
    """))
    env = _env(tmp_path / "locks", 2)
    proc = subprocess.run([str(snakemake), "--profile", str(REPO / "profiles" / "local"), "--resources", "gpu=2",
                           "--cores", "4"], cwd=wd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    runs = {}
    for name in ("a", "b", "c", "d", "pair", "big"):
        first, second = (wd / "out" / f"{name}.txt").read_text().splitlines()
        gpus, devices, start = first.split()
        runs[name] = (int(gpus), devices.split(","), float(start), float(second))
    assert [runs[n][0] for n in ("a", "pair", "big")] == [1, 2, 2]  # big was scaled down to the cap
    assert all(runs[n][1] == ["0", "1"] for n in ("pair", "big"))
    overlaps = 0
    for i, (n1, (_, dev1, s1, e1)) in enumerate(runs.items()):  # overlapping jobs never share a device
        for n2, (_, dev2, s2, e2) in list(runs.items())[i + 1:]:
            if s1 < e2 and s2 < e1:
                overlaps += 1
                assert not set(dev1) & set(dev2), (n1, n2, runs)
    assert overlaps >= 1, runs  # two 1-GPU jobs did run side by side
