"""The Slurm path, proven on a real single-node Slurm brought up by tests/slurm (skips where it cannot run).

Every workflow here runs through ``--executor slurm`` with the repository's profile (profiles/slurm) plus
the few settings that describe this test cluster rather than a site: see ``TEST_CLUSTER_ARGS``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from slurm.fixtures import slurm_cluster  # noqa: F401  (session fixture)
from helpers.sbatch import option as _option

REPO = Path(__file__).resolve().parents[1]
PROFILE = REPO / "profiles" / "slurm"
SITE_EXAMPLE = REPO / "profiles" / "slurm-site-example"
_VENV_SNAKEMAKE = REPO / ".venv" / "bin" / "snakemake"
SNAKEMAKE = [str(_VENV_SNAKEMAKE)] if _VENV_SNAKEMAKE.exists() else [sys.executable, "-m", "snakemake"]

# This cluster polls fast (the first status check after 2 s instead of 40 s) and has no accounts.
# MinJobAge there is 600 s, far above 3 x 2 s, so the plugin keeps using squeue.
TEST_CLUSTER_ARGS = ["--slurm-init-seconds-before-status-checks", "2", "--slurm-no-account",
                     "--latency-wait", "5"]


def run_snakemake(cluster, workdir: Path, *args: str, timeout: float = 600, log_name: str = "snakemake.log",
                  env: dict | None = None) -> tuple[int, str]:
    """Run Snakemake through Slurm in ``workdir`` (its Snakefile unless -s is given); (exit code, output)."""
    cmd = [*SNAKEMAKE, "--profile", str(PROFILE), "--directory", str(workdir), *TEST_CLUSTER_ARGS, *args]
    log = workdir / log_name
    with open(log, "w") as out:
        proc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                              env=env or cluster.env(), timeout=timeout, cwd=workdir)
    return proc.returncode, log.read_text()


def start_snakemake(cluster, workdir: Path, *args: str, log_name: str = "snakemake.log") -> subprocess.Popen:
    cmd = [*SNAKEMAKE, "--profile", str(PROFILE), "--directory", str(workdir), *TEST_CLUSTER_ARGS, *args]
    out = open(workdir / log_name, "w")
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            env=cluster.env(), cwd=workdir)
    out.close()
    return proc


def write_workflow(workdir: Path, snakefile: str) -> Path:
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "Snakefile").write_text(textwrap.dedent(snakefile))
    return workdir


def wait_until(predicate, timeout: float, what: str, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"Snakemake exited ({proc.returncode}) before {what}")
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def run_and_interrupt(cluster, workdir: Path, ready, what: str, interrupt, *args: str,
                      ready_timeout: float = 120, timeout: float = 300) -> tuple[int, str]:
    """Start Snakemake, wait until ``ready()``, call ``interrupt()`` and let the run finish: (exit code, log)."""
    proc = start_snakemake(cluster, workdir, *args)
    try:
        wait_until(ready, ready_timeout, what, proc)
        interrupt()
        proc.wait(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, (workdir / "snakemake.log").read_text()


def show_job(cluster, job_id: str) -> dict[str, str]:
    text = cluster.run("scontrol", "show", "job", job_id).stdout
    return dict(re.findall(r"(\w+)=(\S*)", text))


# --- 1. a workflow runs through the executor with the repository's profile -------------------------------

@pytest.mark.slurm
def test_workflow_runs_through_slurm_with_profile(slurm_cluster, tmp_path):
    wd = write_workflow(tmp_path / "wf", """
        localrules: all

        rule all:
            input: "gathered.txt"

        rule part:
            output: "parts/{i}.txt"
            threads: 1
            resources: mem_mb=300, runtime=7
            shell: "echo part {wildcards.i} job $SLURM_JOB_ID host $(hostname -s) > {output}"

        rule gather:
            input: expand("parts/{i}.txt", i=range(3))
            output: "gathered.txt"
            shell: "cat {input} > {output}; echo gather job $SLURM_JOB_ID >> {output}"
    """)
    t0 = time.monotonic()
    rc, log = run_snakemake(slurm_cluster, wd)
    elapsed = time.monotonic() - t0
    assert rc == 0, log
    lines = (wd / "gathered.txt").read_text().splitlines()
    assert [line.split()[:2] for line in lines[:3]] == [["part", "0"], ["part", "1"], ["part", "2"]]
    job_ids = [line.split()[3] for line in lines[:3]] + [lines[3].split()[2]]
    assert all(j.isdigit() for j in job_ids) and len(set(job_ids)) == 4, lines  # four distinct Slurm jobs
    assert len(re.findall(r"has been submitted with SLURM jobid", log)) == 4
    # The rule's resources reached Slurm as requests (the profile's defaults fill what the rule leaves out).
    part = show_job(slurm_cluster, job_ids[0])
    assert (part["TimeLimit"], part["MinMemoryNode"], part["NumCPUs"]) == ("00:07:00", "300M", "1")
    assert part["Requeue"] == "1"  # slurm-requeue: true in the profile
    gather = show_job(slurm_cluster, job_ids[3])
    assert (gather["TimeLimit"], gather["MinMemoryNode"]) == ("01:00:00", "4000M")
    # Logs of successful jobs are removed by the plugin; nothing was left behind.
    assert not list((wd / ".snakemake" / "slurm_logs").rglob("*.log"))
    print(f"4-job workflow through Slurm: {elapsed:.1f}s")


# --- 2. failures: reported with the Slurm log; a transient failure is retried ----------------------------

@pytest.mark.slurm
def test_failed_job_is_reported_with_log_and_transient_failure_is_retried(slurm_cluster, tmp_path):
    wd = write_workflow(tmp_path / "wf", """
        localrules: all

        rule all:
            input: "broken.txt", "flaky.txt"

        rule broken:
            output: "broken.txt"
            shell: "echo attempt $SLURM_JOB_ID >> broken.attempts; echo 'boom: deliberate failure' >&2; exit 3"

        rule flaky:
            output: "flaky.txt"
            shell:
                '''
                echo attempt $SLURM_JOB_ID >> flaky.attempts
                if [ ! -e flaky.marker ]; then touch flaky.marker; echo 'transient trouble' >&2; exit 1; fi
                echo recovered > {output}
                '''
    """)
    rc, log = run_snakemake(slurm_cluster, wd, "--retries", "1")
    assert rc != 0, log
    # The transient failure was retried in a new Slurm job and succeeded.
    assert (wd / "flaky.txt").read_text().strip() == "recovered"
    flaky_jobs = (wd / "flaky.attempts").read_text().split()[1::2]
    assert len(flaky_jobs) == 2 and flaky_jobs[0] != flaky_jobs[1], flaky_jobs
    # The permanent failure was tried twice, then reported with its Slurm log, which holds the job's stderr.
    assert len((wd / "broken.attempts").read_text().splitlines()) == 2
    assert "Error in rule broken" in log
    logs = re.findall(r"log: (\S+\.log) \(check log file", log)
    broken_logs = [Path(p) for p in logs if "/rule_broken/" in p]
    assert broken_logs, log
    assert all(p.is_relative_to(wd / ".snakemake" / "slurm_logs") and p.exists() for p in broken_logs)
    assert "boom: deliberate failure" in broken_logs[-1].read_text()
    assert re.search(r"SLURM-job '\d+' failed, SLURM status is: 'FAILED'", log)
    assert not (wd / "broken.txt").exists()


# --- 3. a job killed mid-run (scancel) is rerun and redoes no finished shard ----------------------------

# Mirrors rule sample_solutions: one job per shard, each shard written to a temporary file and renamed
# into place, so a killed job leaves no partial shard. Every start of a shard job is logged.
SHARDS_WORKFLOW = """
    localrules: all

    N = 4

    rule all:
        input: "samples.jsonl"

    rule sample_shard:
        output: "samples/shard-{i}.jsonl"
        threads: 1
        resources: mem_mb=200, runtime=5
        run:
            import json, os, time
            slow = int(wildcards.i) == 2
            with open("starts.log", "a") as log:
                log.write(f"{wildcards.i} {os.environ['SLURM_JOB_ID']}\\n")
            tmp = output[0] + ".tmp"
            with open(tmp, "w") as f:
                for k in range(5):
                    f.write(json.dumps({"shard": int(wildcards.i), "k": k}) + "\\n")
                    f.flush()
                    if slow:
                        open(f"progress-{wildcards.i}", "a").write(f"{k}\\n")
                        time.sleep(1)
            os.replace(tmp, output[0])

    rule gather:
        input: expand("samples/shard-{i}.jsonl", i=range(N))
        output: "samples.jsonl"
        shell: "cat {input} > {output}"
"""


@pytest.mark.slurm
def test_scancelled_job_is_rerun_without_redoing_finished_shards(slurm_cluster, tmp_path):
    wd = write_workflow(tmp_path / "wf", SHARDS_WORKFLOW)
    progress = wd / "progress-2"
    killed = []

    def kill_shard_2():
        starts = (wd / "starts.log").read_text().splitlines()
        killed.append(next(line.split()[1] for line in starts if line.startswith("2 ")))
        assert not (wd / "samples" / "shard-2.jsonl").exists()  # half written, but not in place
        slurm_cluster.run("scancel", killed[0])

    rc, log = run_and_interrupt(slurm_cluster, wd, lambda: progress.exists() and len(progress.read_text().split()) >= 2,
                                "shard 2 to be half written", kill_shard_2, "--retries", "1")
    assert rc == 0, log
    victim = killed[0]
    assert f"SLURM-job '{victim}' failed, SLURM status is: 'CANCELLED'" in log
    starts = [line.split() for line in (wd / "starts.log").read_text().splitlines()]
    by_shard = {i: [job for s, job in starts if s == str(i)] for i in range(4)}
    assert len(by_shard[2]) == 2 and by_shard[2][0] == victim and by_shard[2][1] != victim, by_shard
    assert all(len(by_shard[i]) == 1 for i in (0, 1, 3)), by_shard  # finished shards were not redone
    rows = [json.loads(line) for line in (wd / "samples.jsonl").read_text().splitlines()]
    assert [(r["shard"], r["k"]) for r in rows] == [(i, k) for i in range(4) for k in range(5)]
    assert not list((wd / "samples").glob("*.tmp"))
    # A later run finds everything done and submits nothing.
    rc, again = run_snakemake(slurm_cluster, wd, log_name="again.log")
    assert rc == 0 and "Nothing to be done" in again and "submitted" not in again, again


# --- 3b. preemption: Slurm requeues a running job (sbatch --requeue), which resumes from checkpoints -------

# Mirrors a resumable finetune: progress is checkpointed outside the rule's declared output (Snakemake
# deletes declared outputs, directories included, before it runs a job), the output is written last.
RESUME_WORKFLOW = """
    localrules: all

    rule all:
        input: "model.txt"

    rule train:
        output: "model.txt"
        threads: 1
        resources: mem_mb=200, runtime=5
        run:
            import os, time
            os.makedirs("ckpt", exist_ok=True)
            with open("starts.log", "a") as log:
                log.write(os.environ["SLURM_JOB_ID"] + "\\n")
            run_index = len(open("starts.log").read().split())
            for step in range(6):
                ckpt = f"ckpt/step-{step}"
                if os.path.exists(ckpt):
                    continue
                with open("steps.log", "a") as log:
                    log.write(f"{step} {run_index}\\n")
                time.sleep(1.5)
                open(ckpt + ".tmp", "w").write("ok")
                os.replace(ckpt + ".tmp", ckpt)
            open(output[0], "w").write(" ".join(sorted(os.listdir("ckpt"))))
"""


@pytest.mark.slurm
def test_requeued_job_resumes_from_checkpoints(slurm_cluster, tmp_path):
    wd = write_workflow(tmp_path / "wf", RESUME_WORKFLOW)
    requeued = []

    def preempt():
        requeued.append((wd / "starts.log").read_text().split()[0])
        slurm_cluster.run("scontrol", "requeue", requeued[0])  # what preemption with requeue does
        # Slurm holds a requeued job back (BeginTime) for a while; release it so the test stays short.
        wait_until(lambda: show_job(slurm_cluster, requeued[0]).get("JobState") == "PENDING", 30, "the requeue")
        slurm_cluster.run("scontrol", "update", f"JobId={requeued[0]}", "StartTime=now")

    rc, log = run_and_interrupt(slurm_cluster, wd, lambda: (wd / "ckpt" / "step-1").exists(), "two checkpoints",
                                preempt)
    assert rc == 0, log
    job = requeued[0]
    assert "Error in rule" not in log  # Snakemake kept waiting on the same Slurm job
    assert (wd / "starts.log").read_text().split() == [job, job]  # one Slurm job, started twice
    steps = [tuple(map(int, line.split())) for line in (wd / "steps.log").read_text().splitlines()]
    first_run = [step for step, run in steps if run == 1]
    second_run = [step for step, run in steps if run == 2]
    assert first_run[:2] == [0, 1] and second_run, steps
    # Only the step in progress at the requeue is repeated; finished checkpoints are not redone.
    assert second_run == list(range(first_run[-1], 6)), steps
    assert (wd / "model.txt").read_text() == " ".join(f"step-{i}" for i in range(6))
    assert show_job(slurm_cluster, job)["Restarts"] == "1"


# --- 4. sbatch options for the GPU rules, checked without GPUs --------------------------------------------

STUB_SBATCH = """#!/usr/bin/env python3
import json, os, sys
with open(os.environ["SBATCH_STUB_LOG"], "a") as f:
    f.write(json.dumps(sys.argv[1:]) + "\\n")
sys.stderr.write("stub sbatch: recorded, not submitted\\n")
sys.exit(1)
"""

# Standard resources as the study's rules declare them; the site profile adds where they run.
GPU_RULES_WORKFLOW = """
    localrules: all

    RULES = {
        "prepare_dataset": dict(threads=2, mem_mb=2000, runtime=20, gpu=0),
        "train_toy_model": dict(threads=2, mem_mb=2000, runtime=20, gpu=0),
        "grade_samples": dict(threads=2, mem_mb=2000, runtime=20, gpu=0),
        "sample_solutions": dict(threads=4, mem_mb=8000, runtime=30, gpu=2),
        "finetune": dict(threads=4, mem_mb=9000, runtime=40, gpu=4),
        "evaluate": dict(threads=4, mem_mb=8000, runtime=30, gpu=1),
        "evaluate_base": dict(threads=4, mem_mb=8000, runtime=30, gpu=2),
    }

    rule all:
        input: [f"out/{name}.txt" for name in RULES]

    for name, res in RULES.items():
        rule:
            name: name
            output: f"out/{name}.txt"
            threads: res["threads"]
            resources: mem_mb=res["mem_mb"], runtime=res["runtime"], gpu=res["gpu"]
            shell: "touch {output}"
"""


def _sbatch_calls(tmp_path: Path, *profile_args: str) -> dict[str, list[str]]:
    """Run the workflow with a stub sbatch on PATH; {rule: sbatch argv} as the plugin built it."""
    stub = tmp_path / "stub-bin"
    stub.mkdir()
    scripts = {
        "sbatch": STUB_SBATCH,
        "sinfo": "#!/bin/sh\necho PARTITION; echo 'cpu*'; echo gpu\n",
        "squeue": "#!/bin/sh\nexit 0\n",
        "sacct": "#!/bin/sh\nexit 0\n",
        "scontrol": "#!/bin/sh\necho 'MinJobAge               = 300 sec'\n",
        "scancel": "#!/bin/sh\nexit 0\n",
    }
    for name, text in scripts.items():
        (stub / name).write_text(text)
        (stub / name).chmod(0o755)
    wd = write_workflow(tmp_path / "wf", GPU_RULES_WORKFLOW)
    calls_log = tmp_path / "sbatch-calls.jsonl"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLURM")}
    env.update(PATH=f"{stub}{os.pathsep}{env['PATH']}", SBATCH_STUB_LOG=str(calls_log))
    cmd = [*SNAKEMAKE, "--profile", str(PROFILE), *profile_args, "--directory", str(wd), "--retries", "0",
           "--slurm-init-seconds-before-status-checks", "1"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, stdin=subprocess.DEVNULL,
                          cwd=wd)
    assert proc.returncode != 0  # every submission was refused by the stub
    assert "sbatch call:" in proc.stdout + proc.stderr  # the plugin reports the exact call it made
    calls = {}
    for line in calls_log.read_text().splitlines():
        argv = json.loads(line)
        rule = next(a for a in argv if a.startswith("rule_")).split("_wildcards_")[0][len("rule_"):]
        calls[rule] = argv
    return calls


def test_sbatch_options_with_site_example_profile(tmp_path):
    pytest.importorskip("snakemake_executor_plugin_slurm")
    calls = _sbatch_calls(tmp_path, "--workflow-profile", str(SITE_EXAMPLE))
    expected = {  # rule: (partition, time, mem, gpus, cpus option); time and memory as the rule says
        "sample_solutions": ("gpu", "30", "8000", "a100:2", ("--cpus-per-gpu", "8")),
        "finetune": ("gpu", "40", "9000", "a100:4", ("--cpus-per-gpu", "8")),
        "evaluate": ("gpu", "30", "8000", "a100:1", ("--cpus-per-gpu", "8")),
        "evaluate_base": ("gpu", "30", "8000", "a100:2", ("--cpus-per-gpu", "8")),
        "train_toy_model": ("cpu", "20", "2000", None, ("--cpus-per-task", "2")),
        "prepare_dataset": ("cpu", "20", "2000", None, ("--cpus-per-task", "2")),
        "grade_samples": ("cpu", "240", "2000", None, ("--cpus-per-task", "2")),  # the site's override
    }
    assert set(calls) == set(expected), calls
    for rule, (partition, minutes, mem, gpus, (cpu_opt, cpus)) in expected.items():
        argv = calls[rule]
        got = (_option(argv, "-p"), _option(argv, "-t"), _option(argv, "--mem"), _option(argv, "--gpus"),
               _option(argv, cpu_opt))
        assert got == (partition, minutes, mem, gpus, cpus), (rule, argv)
        assert "--requeue" in argv, argv
        assert not any(a.startswith("--gres") for a in argv), argv
        if gpus:
            assert _option(argv, "--cpus-per-task") is None and _option(argv, "--ntasks") is None, argv
        else:
            assert _option(argv, "--ntasks") == "1", argv


def test_site_example_names_existing_rules(tmp_path):
    """Every rule the site example configures exists in the workflow (or is planned in config.yaml)."""
    yaml = pytest.importorskip("yaml")
    if not (REPO / "Snakefile").exists() or not (REPO / "configs" / "test.yaml").exists():
        pytest.skip("the study workflow is not in this checkout yet")
    proc = subprocess.run([*SNAKEMAKE, "-s", str(REPO / "Snakefile"), "--configfile", str(REPO / "configs/test.yaml"),
                           "--list-rules"], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    rules = set(proc.stdout.split())
    planned = set(yaml.safe_load((REPO / "config.yaml").read_text()).get("resources", {}))
    site = yaml.safe_load((SITE_EXAMPLE / "config.yaml").read_text())
    assert set(site["set-resources"]) <= rules | planned, set(site["set-resources"]) - rules - planned
    for gpu_rule in ("sample_solutions", "finetune", "evaluate"):
        assert gpu_rule in rules and "slurm_partition" in site["set-resources"][gpu_rule]


def test_sbatch_options_with_executor_profile_alone(tmp_path):
    """Without a site profile the rule's own resources go through unchanged; no partition is guessed."""
    pytest.importorskip("snakemake_executor_plugin_slurm")
    calls = _sbatch_calls(tmp_path)
    argv = calls["sample_solutions"]
    assert (_option(argv, "-p"), _option(argv, "-t"), _option(argv, "--mem"), _option(argv, "--gpus"),
            _option(argv, "--cpus-per-task")) == ("cpu", "30", "8000", "2", "4"), argv  # cpu*: sinfo default
    argv = calls["prepare_dataset"]
    assert (_option(argv, "-t"), _option(argv, "--mem"), _option(argv, "--gpus")) == ("20", "2000", None), argv


# --- 5. the test study's first replicate through Slurm gives the same bits as the local run ---------------

#: Rules left out of the Slurm run: tables, figures, findings and the paper are local rules (the profile runs them
#: on the submit host, as a local run does) over every replicate; the Slurm jobs are the replicate's.
LOCAL_SUMMARY_RULES = ("plot_", "make_", "write_", "record_")


def first_replicate_targets(local_dir: Path, config: Path) -> list[str]:
    """The outputs of the local run's first replicate made by the rules that Slurm runs as jobs (and the local
    rules they need, which come along as their inputs), from the run's ``snakemake --summary``."""
    proc = subprocess.run([*SNAKEMAKE, "-s", str(REPO / "Snakefile"), "--configfile", str(config), "--summary"],
                          cwd=local_dir, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-5000:]
    rows = [line.split("\t") for line in proc.stdout.splitlines()[1:] if line.count("\t") >= 5]
    return sorted(path for path, _, rule, *_ in rows if "/rep-1/" in path and not rule.startswith(LOCAL_SUMMARY_RULES))


@pytest.mark.slurm
@pytest.mark.e2e
def test_first_replicate_through_slurm_matches_local_run(slurm_cluster, tmp_path, request):
    """The test study's first replicate (every job kind Slurm runs: data, toy models, sampling, finetuning,
    evaluations, transfer) through Slurm, with one sampling job killed by scancel midway and rerun by the
    profile's retry: every file it writes is bitwise the local run's."""
    config = REPO / "configs" / "test.yaml"
    local_dir = Path(request.getfixturevalue("local_test_run"))
    targets = first_replicate_targets(local_dir, config)
    rules = {path.split("/")[3] for path in targets}  # results/test/rep-1/<stage>/...
    assert {"samples", "finetune", "evaluation", "transfer"} <= rules, rules
    wd = tmp_path / "slurm-run"
    wd.mkdir()
    victim = {}

    def sampling_job_running() -> bool:
        out = slurm_cluster.run("squeue", "--noheader", "--states=RUNNING", "--format=%i|%k|%M").stdout
        for line in out.splitlines():
            job, comment, used = line.split("|")
            if comment.startswith("rule_sample_solutions") and _seconds(used) >= 5:
                victim.update(job=job, comment=comment)
                return True
        return False

    t0 = time.monotonic()
    rc, log = run_and_interrupt(
        slurm_cluster, wd, sampling_job_running, "a sample_solutions job to run for 5 s",
        lambda: slurm_cluster.run("scancel", victim["job"]),
        *targets, "-s", str(REPO / "Snakefile"), "--configfile", str(config), ready_timeout=900, timeout=1500)
    elapsed = time.monotonic() - t0
    assert rc == 0, log[-20000:]
    submitted = re.findall(r"has been submitted with SLURM jobid (\d+) \(log: (\S+)/\d+\.log\)", log)
    print(f"first replicate of the test study through Slurm: {len(submitted)} Slurm jobs in {elapsed:.0f}s")
    assert f"SLURM-job '{victim['job']}' failed, SLURM status is: 'CANCELLED'" in log
    sampling = [logdir for _, logdir in submitted if "/rule_sample_solutions/" in logdir]
    killed_dir = next(logdir for job, logdir in submitted if job == victim["job"])
    assert sampling.count(killed_dir) == 2, sampling  # the killed job ran again ...
    assert all(sampling.count(d) == 1 for d in set(sampling) - {killed_dir}), sampling  # ... no other did
    # Every file written is bitwise the local run's: data, models, samples, graded data, checkpoints, evaluations.
    assert all((wd / target).exists() for target in targets)
    written = sorted(p.relative_to(wd) for p in (wd / "results" / "test").rglob("*") if p.is_file())
    assert {p.name for p in written} >= {"toy-se.jsonl", "model.safetensors", "scores.json"}, written
    assert not any("rep-2" in p.parts for p in written), "the Slurm run wrote the second replicate"
    missing = [str(p) for p in written if not (local_dir / p).is_file()]
    assert not missing, f"{len(missing)} files the local run does not have: {missing[:10]}"
    differ = [str(p) for p in written if (wd / p).read_bytes() != (local_dir / p).read_bytes()]
    assert not differ, f"{len(differ)} of {len(written)} results differ from the local run: {differ[:10]}"


def _seconds(squeue_time: str) -> int:
    """squeue's %M ([D-]H:MM:SS or M:SS) in seconds."""
    days, _, clock = squeue_time.rpartition("-")
    seconds = 0
    for part in clock.split(":"):
        seconds = seconds * 60 + int(part)
    return seconds + int(days or 0) * 86400
