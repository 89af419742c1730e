"""Fault sweep: kill the workflow at random moments across its stages, rerun it to the end as a user would,
and compare every result file with an uninterrupted run's (issue 15).

A reference run of the config (configs/test.yaml by default) goes first, uninterrupted, unless --reference
names a finished one.  Each trial then works in its own copy of the reference's working directory and:

1. removes the outputs of one or two jobs of the trial's stage and of everything downstream of them (from
   the inputs Snakemake recorded for each output), which leaves a study that has run up to that stage
   without paying for the stages before, and starts ``snakemake`` there;
2. watches which jobs run (Snakemake's job processes, and for finetuning the run's ``.partial`` directory)
   and, at a moment drawn from the trial's seeded RNG, sends SIGKILL either to the whole Snakemake run (its
   process tree: a preempted node) or to one job's process tree (a job killed by its scheduler);
3. reruns as a user would: ``snakemake --unlock`` if the killed run left its lock, then
   ``snakemake --rerun-incomplete`` to the end;
4. compares every file under results/ with the reference's, byte for byte (none is exempt: every output
   is deterministic), and counts the work redone: jobs the kill interrupted and ran again, finished jobs
   that ran again, sampling shards redone, and per interrupted finetuning run the checkpoint it resumed
   from against the checkpoints it had written when it was killed.

Stages: sampling, grading, finetuning (killed between checkpoint saves, during a save, or while scoring
checkpoints), evaluation (base models, checkpoint selection, test evaluation), tables (tables, figures,
paper, findings).  Trials cycle through every (stage, scope of the kill) pair in an order drawn from --seed.

Usage: python bench/fault_sweep.py --trials 20 --out /tmp/sweep [--seed 0] [--config configs/test.yaml]
       [--reference DIR] [--cores 2]
Prints one line per trial and the figures at the end; writes them to OUT/fault_sweep.json.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
TEST_CONFIG = REPO / "configs" / "test.yaml"

# The rules whose jobs a trial of each stage runs again, and kills.
STAGE_RULES = {
    "sampling": ("sample_solutions",),
    "grading": ("grade_samples",),
    "finetune-between": ("finetune",),
    "finetune-save": ("finetune",),
    "finetune-scoring": ("finetune",),
    "evaluation": ("evaluate_base", "select_checkpoint", "evaluate"),
    "tables": ("make_table1", "make_table2", "make_ablation_table", "make_ledger", "plot_data_metrics",
               "plot_coverage_curves", "plot_coverage_cost", "plot_finetuning", "plot_majority", "record_provenance",
               "write_paper", "make_paper", "write_findings"),
}
STAGES = tuple(STAGE_RULES)
SCOPES = ("run", "job")
POLL_S = 0.01
ATTEMPTS = 3


@dataclass(frozen=True)
class Trial:
    index: int
    stage: str
    scope: str  # "run": SIGKILL to the whole Snakemake run; "job": to one job's process tree
    seed: int


@dataclass
class Job:
    """One job as Snakemake's log shows it: its rule, outputs and log (a job's key: every job of the
    workflow has a log of its own), and when it started and finished."""
    rule: str
    outputs: list[str]
    log: str
    benchmark: str | None = None
    start: datetime | None = None
    end: datetime | None = None


# --- running Snakemake ---------------------------------------------------------------------------------

def snakemake_command(workdir: Path, config: Path, cores: int, *args: str) -> list[str]:
    return [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory", str(workdir),
            "--configfile", str(config), "--cores", str(cores), *args]


def environment() -> dict:
    # This tree's package, whichever checkout the venv's editable install points at.
    return dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))


def run_snakemake(workdir: Path, config: Path, cores: int, log: Path, *args: str) -> int:
    with open(log, "w") as out:
        return subprocess.run(snakemake_command(workdir, config, cores, *args), cwd=workdir, stdout=out,
                              stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=environment()).returncode


def reference_run(workdir: Path, config: Path, cores: int) -> bool:
    """The uninterrupted run, from scratch, in ``workdir``, unless a finished one is there; whether it ran."""
    log = workdir / "snakemake.log"
    if log.exists() and "steps (100%) done" in log.read_text():
        return False
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    if run_snakemake(workdir, config, cores, log) != 0:
        sys.exit(f"the reference run failed; see {log}")
    return True


# --- Snakemake's log -------------------------------------------------------------------------------------

_STAMP = re.compile(r"^\[(\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4})\]$")


def parse_jobs(text: str) -> dict[str, Job]:
    """The jobs a Snakemake log shows starting, by log path, with their start and finish times."""
    jobs: dict[str, Job] = {}
    by_id: dict[str, Job] = {}
    stamp = None
    current: Job | None = None
    for line in text.splitlines():
        if match := _STAMP.match(line):
            stamp = datetime.strptime(match.group(1), "%a %b %d %H:%M:%S %Y")
            current = None
        elif match := re.match(r"^(?:local)?rule (\w+):$", line):
            current = Job(rule=match.group(1), outputs=[], log="", start=stamp)
        elif current is not None and line.startswith("    output: "):
            current.outputs = line.removeprefix("    output: ").split(", ")
        elif current is not None and line.startswith("    benchmark: "):
            current.benchmark = line.removeprefix("    benchmark: ")
        elif current is not None and line.startswith("    log: "):
            current.log = line.removeprefix("    log: ").split(" ")[0].rstrip(",")
        elif current is not None and (match := re.match(r"^    jobid: (\d+)$", line)):
            by_id[match.group(1)] = current
            if current.log:
                jobs[current.log] = current
        elif match := re.match(r"^Finished jobid: (\d+) ", line):
            if match.group(1) in by_id:
                by_id[match.group(1)].end = stamp
    return jobs


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def rule_durations(jobs: dict[str, Job]) -> dict[str, float]:
    """Median wall time of each rule's jobs in seconds (the log's stamps are to the second)."""
    spans: dict[str, list[float]] = {}
    for job in jobs.values():
        if job.start and job.end:
            spans.setdefault(job.rule, []).append((job.end - job.start).total_seconds())
    return {rule: _median(values) for rule, values in spans.items()}


def rule_cpu(reference: Path, jobs: dict[str, Job]) -> dict[str, float]:
    """Median CPU time of each rule's jobs in seconds, from their benchmark files (rules that have one)."""
    cpu: dict[str, list[float]] = {}
    for job in jobs.values():
        if job.benchmark and (reference / job.benchmark).exists():
            header, values = (reference / job.benchmark).read_text().splitlines()[:2]
            cpu.setdefault(job.rule, []).append(float(dict(zip(header.split("\t"), values.split("\t")))["cpu_time"]))
    return {rule: _median(values) for rule, values in cpu.items()}


# --- processes -----------------------------------------------------------------------------------------

def children(pid: int) -> list[int]:
    """The child processes of ``pid`` (each of its threads keeps a list of the children it started)."""
    found = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            found += [int(child) for child in (task / "children").read_text().split()]
    except OSError:  # gone
        pass
    return found


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    found, todo = [], [pid]
    while todo:
        found.append(todo.pop())
        todo.extend(children(found[-1]))
    return found


_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """CPU time of a process tree so far: each process's own and its reaped children's (utime, stime,
    cutime, cstime)."""
    total = 0
    for each in process_tree(pid):
        try:
            # the command name is in parentheses and may hold spaces: the fields after the last ')'
            total += sum(map(int, Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()[11:15]))
        except (OSError, ValueError):
            pass
    return total / _TICK


def kill_tree(pid: int) -> list[int]:
    """SIGKILL ``pid`` and its descendants at once (stopped first, so none forks or exits in between)."""
    pids = process_tree(pid)
    for sig in (signal.SIGSTOP, signal.SIGKILL):
        for each in pids:
            try:
                os.kill(each, sig)
            except ProcessLookupError:
                pass
    return pids


def running_jobs(snakemake_pid: int, logs: list[str], seen: dict[int, tuple[str, str, float]]
                 ) -> dict[int, tuple[str, str, float]]:
    """Snakemake's job processes now: {pid: (rule, log path, first seen)}.  A job runs its script as
    ``python .snakemake/scripts/tmpXXXX.<rule>.py``, which holds the job's own log path."""
    now = {}
    for pid in children(snakemake_pid):
        if pid in seen:
            now[pid] = seen[pid]
            continue
        try:
            script = next(arg for arg in Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
                          if "/.snakemake/scripts/" in arg)
            text = Path(script).read_text(errors="replace")
        except (OSError, StopIteration):
            continue
        rule = Path(script).name.split(".")[-2]
        log = next((path for path in logs if path in text), "?")
        now[pid] = seen[pid] = (rule, log, time.monotonic())
    return now


# --- finetuning runs ------------------------------------------------------------------------------------

def training_snapshot(partial: Path) -> dict:
    """What a finetuning run has on disk: its checkpoints, the one it resumes from (the newest with training
    state), a save in progress, whether training is over, and the checkpoints already scored."""
    while True:
        try:
            return _training_snapshot(partial)
        except FileNotFoundError:  # a save renamed its directory while it was being listed: look again
            continue


def _training_snapshot(partial: Path) -> dict:
    done = sorted(int(p.name.split("-")[1]) for p in partial.glob("checkpoint-*") if p.is_dir())
    state = [step for step in done if (partial / f"checkpoint-{step}" / "training_state").is_dir()]
    tmp = sorted(partial.glob(".checkpoint-*.tmp"))
    scored = []
    for step in done:
        try:
            scored += [step] if "validation_accuracy" in json.loads(
                (partial / f"checkpoint-{step}" / "scores.json").read_text()) else []
        except ValueError:  # being written
            pass
    return {"checkpoints": done, "resumable_from": max(state, default=0),
            "saving": [int(p.name.split("-")[1].split(".")[0]) for p in tmp],
            "saving_files": sorted(f.relative_to(t).as_posix() for t in tmp for f in t.rglob("*") if f.is_file()),
            "trained": (partial / "training.json").exists(), "scored": scored, "started": partial.is_dir(),
            # the job renames its partial directory to its output when it is done
            "finished": partial.with_name(partial.name.removesuffix(".partial")).is_dir()}


def finetune_phase(snapshot: dict) -> str:
    if snapshot["finished"]:
        return "finished"
    if not snapshot["started"]:
        return "not started"
    if snapshot["saving"]:
        return "save"
    if snapshot["trained"]:
        return "scoring"
    return "between" if snapshot["checkpoints"] else "before-first-checkpoint"


# --- a trial -------------------------------------------------------------------------------------------

def plan_trials(count: int, seed: int, stages: tuple[str, ...] = STAGES) -> list[Trial]:
    """``count`` trials cycling through every (stage, kill) pair, in an order drawn from ``seed``."""
    rng = random.Random(seed)
    pairs = [(stage, scope) for stage in stages for scope in SCOPES]
    order = []
    while len(order) < count:
        block = pairs[:]
        rng.shuffle(block)
        order += block
    return [Trial(i, stage, scope, rng.randrange(2**32)) for i, (stage, scope) in enumerate(order[:count])]


def downstream(reference: Path, outputs: list[str]) -> list[str]:
    """``outputs`` and every output of the reference run made from them, directly or not, by the inputs
    Snakemake recorded for each output (.snakemake/metadata), with the other outputs of the same jobs."""
    metadata = reference / ".snakemake" / "metadata"
    records = {}
    for path in metadata.rglob("*"):
        if path.is_file():
            # Snakemake names a record by its output path, urlsafe base64, cut into "@"-prefixed directories
            # where longer than a file name may be.
            name = "".join(part.removeprefix("@") for part in path.relative_to(metadata).parts)
            records[base64.urlsafe_b64decode(name).decode()] = json.loads(path.read_text())
    jobs: dict[str, list[str]] = {}  # a job's outputs, by its log (each job has its own)
    for output, record in records.items():
        jobs.setdefault(" ".join(record["log"]) or output, []).append(output)
    siblings = {output: outs for outs in jobs.values() for output in outs}
    cone, todo = set(), list(outputs)
    while todo:
        output = todo.pop()
        for each in siblings.get(output, [output]):
            if each not in cone:
                cone.add(each)
                todo += [o for o, record in records.items() if each in record["input"]]
    return sorted(cone)


def copy_study(reference: Path, workdir: Path, results: str, remove: list[str]) -> None:
    """The reference's results and Snakemake metadata (times kept), less the outputs in ``remove``: a study
    that has run up to them."""
    shutil.rmtree(workdir, ignore_errors=True)
    shutil.copytree(reference / results, workdir / results)
    shutil.copytree(reference / ".snakemake" / "metadata", workdir / ".snakemake" / "metadata")
    for output in remove:
        path = workdir / output
        shutil.rmtree(path) if path.is_dir() else path.unlink()


def stage_jobs(trial: Trial, reference_jobs: dict[str, Job], reference: Path, rng: random.Random) -> list[Job]:
    """One or two jobs of the trial's stage (one for sampling and grading: everything downstream of a job runs
    again, which there is most of the study); finetuning runs with checkpoints only (a run on no data has
    none to kill around)."""
    candidates = [job for job in reference_jobs.values() if job.rule in STAGE_RULES[trial.stage]]
    if trial.stage.startswith("finetune"):
        candidates = [job for job in candidates if any((reference / job.outputs[0]).glob("checkpoint-*"))]
    candidates.sort(key=lambda job: job.log)
    count = 1 if trial.stage in ("sampling", "grading") else rng.choice((1, 2))
    return rng.sample(candidates, min(len(candidates), count))


class Moment:
    """When a trial kills, drawn from its RNG, and the watch that says when that moment has come.

    Sampling, grading, evaluation and tables: once one of the stage's jobs has run for a random share of the
    wall time its rule's jobs took in the reference run, or has used that share of their CPU time (from their
    benchmark files), whichever comes first: the machine's load changes wall times several-fold, and either
    measure alone could let a job finish before its moment.  Finetuning: after a random training step that
    is not a save (read from the job's progress bar in its log); during the save of a random checkpoint, once
    a random number of its files have appeared; or a random share of the reference run's scoring time into
    scoring the checkpoints."""

    def __init__(self, stage: str, rng: random.Random, reference: Path, saves: list[int]):
        jobs = parse_jobs((reference / "snakemake.log").read_text())
        self.stage = stage
        self.fraction = rng.random()
        self.durations, self.cpu = rule_durations(jobs), rule_cpu(reference, jobs)
        self.step = self.files = None
        if stage == "finetune-between":
            self.step = rng.choice([s for s in range(1, saves[-1]) if s not in saves])
        elif stage == "finetune-save":
            self.step = rng.choice(saves)
            self.files = rng.randrange(checkpoint_files(reference))
        self.since: dict[int, float] = {}

    def sooner(self) -> None:
        self.fraction /= 2
        self.files = None if self.files is None else self.files // 2

    def describe(self) -> dict:
        return {"fraction": round(self.fraction, 3), "step": self.step, "files": self.files}

    def due(self, jobs: dict[int, tuple[str, str, float]], workdir: Path, reference: Path,
            partials: dict[str, Path]) -> int | None:
        """The job process to kill now, if the moment has come; None otherwise."""
        now = time.monotonic()
        for pid, (rule, log, seen) in jobs.items():
            if rule not in STAGE_RULES[self.stage]:
                continue
            if not self.stage.startswith("finetune"):
                if (now - seen >= self.fraction * self.durations.get(rule, 1.0)
                        or rule in self.cpu and cpu_seconds(pid) >= self.fraction * self.cpu[rule]):
                    return pid
                continue
            if log not in partials:
                continue
            snap = training_snapshot(partials[log])
            phase = finetune_phase(snap)
            if self.stage == "finetune-between":
                if phase in ("between", "before-first-checkpoint") and training_progress(workdir / log) >= self.step:
                    return pid
            elif self.stage == "finetune-save":
                if self.step in snap["saving"] and len(snap["saving_files"]) >= self.files:
                    return pid
            elif phase != "scoring":
                self.since.pop(pid, None)
            elif now - self.since.setdefault(pid, now) >= self.fraction * scoring_seconds(reference / log):
                return pid
        return None


def checkpoint_files(reference: Path) -> int:
    """Files a save writes (a checkpoint with its training state), as the reference run's finetuning runs
    recorded before deleting the state."""
    counts = [json.loads(path.read_text()).get("files_per_save", 0) for path in reference.rglob("training.json")]
    if not any(counts):
        raise ValueError(f"no finetuning run under {reference} recorded files_per_save in its training.json")
    return max(counts)


def scoring_seconds(log: Path) -> float:
    """How long a finetuning job took to score its checkpoints, from its log (the reference run's)."""
    return sum(float(s) for s in re.findall(r"^step \d+: validation accuracy \S+ \(\w+, ([\d.]+) s\)",
                                             log.read_text(errors="replace"), re.MULTILINE))


def training_progress(log: Path) -> int:
    """Optimizer steps done, as the newest update of the training progress bar in a job's log shows."""
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return 0
    steps = re.findall(r"train:\s+\d+%\|[^|]*\|\s*(\d+)/\d+", text)
    return int(steps[-1]) if steps else 0


def run_trial(trial: Trial, reference: Path, workdir: Path, config: Path, cores: int, saves: list[int]) -> dict:
    results = yaml.safe_load(config.read_text())["paths"]["results"].split("/")[0]
    rng = random.Random(trial.seed)
    reference_jobs = parse_jobs((reference / "snakemake.log").read_text())
    chosen = stage_jobs(trial, reference_jobs, reference, rng)
    removed = downstream(reference, [job.outputs[0] for job in chosen])
    # the finetuning runs that will run again, to watch
    partials = {job.log: workdir / (job.outputs[0] + ".partial") for job in reference_jobs.values()
                if job.rule == "finetune" and job.outputs[0] in removed}
    moment = Moment(trial.stage, rng, reference, saves)
    # A moment drawn from the reference's durations can come after the jobs have finished, on a machine less
    # loaded than it was then: the trial starts again, from a fresh copy, with the moment made sooner.
    for attempt in range(1, ATTEMPTS + 1):
        if attempt > 1:
            moment.sooner()
        copy_study(reference, workdir, results, removed)
        started = time.monotonic()
        kill = killed_run(trial, workdir, config, cores, moment, reference, reference_jobs, partials)
        killed_s = time.monotonic() - started
        if kill is not None:
            break

    started = time.monotonic()
    unlocked = any((workdir / ".snakemake" / "locks").glob("*"))
    if unlocked and run_snakemake(workdir, config, cores, workdir / "unlock.log", "--unlock") != 0:
        raise RuntimeError(f"trial {trial.index}: snakemake --unlock failed; see {workdir / 'unlock.log'}")
    rc = run_snakemake(workdir, config, cores, workdir / "rerun.log", "--rerun-incomplete")
    rerun_s = time.monotonic() - started
    return {**asdict(trial), "stage_jobs": [job.log for job in chosen], "attempts": attempt,
            "moment": moment.describe(), "kill": kill, "killed_run_s": round(killed_s, 1), "unlocked": unlocked,
            "rerun_rc": rc, "rerun_s": round(rerun_s, 1),
            "redone": redone_work(kill, (workdir / "killed-run.log").read_text(),
                                  (workdir / "rerun.log").read_text(), workdir, saves),
            "comparison": compare_trees(reference / results, workdir / results)}


def killed_run(trial: Trial, workdir: Path, config: Path, cores: int, moment: Moment, reference: Path,
               reference_jobs: dict[str, Job], partials: dict[str, Path]) -> dict | None:
    """Run Snakemake in ``workdir`` and kill it, or one of its jobs, at ``moment``; what the kill met, or None
    if the run ended first."""
    started = time.monotonic()
    with open(workdir / "killed-run.log", "w") as out:
        proc = subprocess.Popen(snakemake_command(workdir, config, cores), cwd=workdir, stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=environment(),
                                start_new_session=True)
        seen: dict[int, tuple[str, str, float]] = {}
        kill = None
        while proc.poll() is None:
            jobs = running_jobs(proc.pid, list(reference_jobs), seen)
            target = moment.due(jobs, workdir, reference, partials)
            if target is not None:
                kill_tree(proc.pid if trial.scope == "run" else target)
                kill = describe_kill(trial, jobs, target, started, workdir, reference_jobs, partials)
                break
            time.sleep(POLL_S)
        proc.wait()
    return kill


def describe_kill(trial: Trial, jobs: dict[int, tuple[str, str, float]], target: int, started: float,
                  workdir: Path, reference_jobs: dict[str, Job], partials: dict[str, Path]) -> dict:
    """What was running when the kill came, what it killed, the killed jobs that had written all their
    outputs (Snakemake discards those as possibly corrupted, so the rerun does the whole job again), and the
    finetuning runs' state on disk."""
    now = time.monotonic()
    rule, log, seen = jobs[target]
    interrupted = [job[1] for job in jobs.values()] if trial.scope == "run" else [log]
    return {"at_s": round(now - started, 2), "after_job_start_s": round(now - seen, 2),
            "running": sorted(f"{job[0]} {job[1]}" for job in jobs.values()),
            "killed": "the whole run" if trial.scope == "run" else f"{rule} {log}", "interrupted": interrupted,
            "outputs_written": [job for job in interrupted if job in reference_jobs
                                and all((workdir / o).exists() for o in reference_jobs[job].outputs)],
            "finetune": {log: {**(snap := training_snapshot(path)), "phase": finetune_phase(snap),
                               "progress": training_progress(workdir / log)}
                         for log, path in partials.items() if log in interrupted}}


def redone_work(kill: dict | None, killed_text: str, rerun_text: str, workdir: Path, saves: list[int]) -> dict:
    """Jobs the kill interrupted and the rerun ran again; finished jobs the rerun ran again (none should);
    sampling shards redone; per interrupted finetuning run, where it resumed against what it had saved."""
    before, after = parse_jobs(killed_text), parse_jobs(rerun_text)
    interrupted = {log for log, job in before.items() if job.end is None}
    rerun_interrupted = sorted(interrupted & set(after))
    finished_rerun = sorted(log for log in after if log in before and before[log].end is not None)
    finetune = {}
    for log, snap in ((kill or {}).get("finetune") or {}).items():
        if log not in after:
            continue
        # Snakemake clears a job's log when it starts the job: the log is the rerun's.
        rerun_log = (workdir / log).read_text(errors="replace")
        match = re.search(r"resuming from \S+ \(step (\d+) of (\d+)\)", rerun_log)
        resumed = int(match.group(1)) if match else 0
        # The steps the killed run had reached: the step being saved, all if it was scoring or done, else the
        # steps its progress bar showed.
        reached = (snap["saving"][0] if snap["saving"] else saves[-1] if snap["trained"] or snap["finished"]
                   else max(snap["progress"], snap["resumable_from"]))
        finetune[log] = {"phase": snap["phase"], "checkpoint_at_kill": snap["resumable_from"],
                         "resumed_from": resumed, "steps_redone_at_most": max(0, reached - resumed),
                         "lost_checkpoint": resumed < snap["resumable_from"],
                         "scorings_redone": len({int(step) for step in re.findall(r"^step (\d+): validation accuracy",
                                                                                    rerun_log, re.MULTILINE)}
                                                & set(snap["scored"]))}
    return {"interrupted": sorted(interrupted), "interrupted_rerun": rerun_interrupted,
            "interrupted_not_rerun": sorted(interrupted - set(after)), "finished_rerun": finished_rerun,
            "shards_redone": sum(after[log].rule == "sample_solutions" for log in rerun_interrupted),
            "finetune": finetune}


def compare_trees(reference: Path, trial: Path) -> dict:
    """Every file under both trees: missing, extra, and those whose bytes differ."""
    ref = {p.relative_to(reference).as_posix() for p in reference.rglob("*") if p.is_file()}
    got = {p.relative_to(trial).as_posix() for p in trial.rglob("*") if p.is_file()}
    differ = sorted(rel for rel in ref & got if not _same_bytes(reference / rel, trial / rel))
    return {"files": len(ref | got), "missing": sorted(ref - got), "extra": sorted(got - ref), "differ": differ}


def _same_bytes(a: Path, b: Path) -> bool:
    if a.stat().st_size != b.stat().st_size:
        return False
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while chunk := fa.read(1 << 20):
            if chunk != fb.read(len(chunk)):
                return False
    return True


def mismatches(report: dict) -> list[str]:
    comparison = report["comparison"]
    return comparison["missing"] + comparison["extra"] + comparison["differ"]


# --- the sweep -----------------------------------------------------------------------------------------

def checkpoint_saves(config: Path) -> list[int]:
    from weakstrong.training import checkpoint_steps

    finetune = yaml.safe_load(config.read_text())["finetune"]
    return checkpoint_steps(finetune["steps"], finetune["checkpoints"])


def summarize(reports: list[dict], saves: list[int]) -> dict:
    interval = min(b - a for a, b in zip([0, *saves], saves))
    finetune = [run for r in reports for run in r["redone"]["finetune"].values()]
    return {
        "trials": len(reports),
        "killed": sum(r["kill"] is not None for r in reports),
        "identical": sum(r["rerun_rc"] == 0 and not mismatches(r) for r in reports),
        "files_compared": sum(r["comparison"]["files"] for r in reports),
        "mismatches": {r["index"]: mismatches(r) for r in reports if mismatches(r)},
        "reruns_failed": [r["index"] for r in reports if r["rerun_rc"] != 0],
        "jobs_interrupted": sum(len(r["redone"]["interrupted"]) for r in reports),
        "interrupted_not_rerun": sum(len(r["redone"]["interrupted_not_rerun"]) for r in reports),
        "finished_jobs_rerun": sum(len(r["redone"]["finished_rerun"]) for r in reports),
        "killed_with_outputs_written": sum(len(r["kill"]["outputs_written"]) for r in reports if r["kill"]),
        "shards_redone": sum(r["redone"]["shards_redone"] for r in reports),
        "max_shards_redone_per_kill": max((r["redone"]["shards_redone"] for r in reports), default=0),
        "finetune_runs_resumed": len(finetune),
        "checkpoint_interval": interval,
        "max_steps_redone_per_run": max((run["steps_redone_at_most"] for run in finetune), default=0),
        "checkpoints_lost": sum(run["lost_checkpoint"] for run in finetune),
        "scorings_redone": sum(run["scorings_redone"] for run in finetune),
        "stages": sorted({f"{r['stage']}/{r['scope']}" for r in reports}),
    }


def trial_line(report: dict) -> str:
    kill = report["kill"]
    where = (f"killed {kill['killed']} at {kill['at_s']} s ({kill['after_job_start_s']} s into the job)"
             if kill else "no kill (the stage's jobs finished first)")
    phases = ", ".join(f"{run['phase']}: checkpoint {run['checkpoint_at_kill']} on disk, resumed from "
                       f"{run['resumed_from']}, <= {run['steps_redone_at_most']} steps redone"
                       for run in report["redone"]["finetune"].values())
    verdict = "identical" if report["rerun_rc"] == 0 and not mismatches(report) else \
        f"MISMATCH {mismatches(report)[:5]} rc={report['rerun_rc']}"
    return (f"trial {report['index']:2d} {report['stage']}/{report['scope']}: {where}; "
            f"{len(report['redone']['interrupted_rerun'])} interrupted job(s) rerun, "
            f"{report['redone']['shards_redone']} shard(s) redone"
            f"{'; ' + phases if phases else ''}; {report['comparison']['files']} files {verdict}")


def sweep(trials: list[Trial], reference: Path, out: Path, config: Path, cores: int, keep: bool = False,
          progress=print) -> dict:
    saves = checkpoint_saves(config)
    reports = []
    for trial in trials:
        workdir = out / f"trial-{trial.index:02d}"
        report = run_trial(trial, reference, workdir, config, cores, saves)
        reports.append(report)
        progress(trial_line(report))
        if not keep and report["rerun_rc"] == 0 and not mismatches(report):
            shutil.rmtree(workdir)
    return {"summary": summarize(reports, saves), "trials": reports}


def load() -> str:
    """The load averages over 1, 5 and 15 minutes."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--out", type=Path, required=True, help="a directory for the runs and fault_sweep.json")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--config", type=Path, default=TEST_CONFIG)
    parser.add_argument("--reference", type=Path, help="a finished uninterrupted run of --config (its snakemake.log "
                                                       "beside results/), instead of running one")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep every trial's directory (else only failed ones)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    config = args.config.resolve()
    started, load_before = time.monotonic(), load()
    reference = args.reference.resolve() if args.reference else args.out / "reference"
    ran = not args.reference and reference_run(reference, config, args.cores)
    reference_s = round(time.monotonic() - started) if ran else None
    print(f"reference run: {reference} ({f'{reference_s} s' if ran else 'a finished one, reused'})", flush=True)
    result = sweep(plan_trials(args.trials, args.seed), reference, args.out, config, args.cores,
                   keep=args.keep, progress=lambda line: print(line, flush=True))
    result["summary"].update(seed=args.seed, config=str(config), cores=args.cores, reference=str(reference),
                             reference_s=reference_s, total_s=round(time.monotonic() - started),
                             load_before=load_before, load_after=load())
    (args.out / "fault_sweep.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result["summary"], indent=2))
    summary = result["summary"]
    print(f"{summary['identical']} of {summary['trials']} trials ({summary['killed']} killed) identical to the "
          f"reference over {summary['files_compared']} files compared; {summary['jobs_interrupted']} jobs "
          f"interrupted, {summary['killed_with_outputs_written']} of them with their outputs written; "
          f"{summary['shards_redone']} shard(s) redone (at most {summary['max_shards_redone_per_kill']} per kill); "
          f"finetuning: {summary['finetune_runs_resumed']} runs resumed, at most "
          f"{summary['max_steps_redone_per_run']} steps redone per run (checkpoint interval "
          f"{summary['checkpoint_interval']}), {summary['checkpoints_lost']} checkpoint(s) lost; "
          f"{summary['finished_jobs_rerun']} finished job(s) rerun; {summary['total_s'] / 60:.1f} min "
          f"(load {load_before} before, {summary['load_after']} after)")


if __name__ == "__main__":
    main()
