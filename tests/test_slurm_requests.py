"""The sbatch requests of the study's GPU rules, rendered by snakemake-executor-plugin-slurm without a cluster.

A dry run of the real workflow (config.yaml, ``--profile profiles/slurm --workflow-profile
profiles/slurm-site-example``) records every job's resources as Snakemake computes them; each GPU rule's
resources then go, on a stand-in job, through the plugin's own ``get_submit_command`` and ``set_gres_string``,
the two functions its ``run_job`` builds the sbatch call from. tests/test_slurm.py checks the same options
end to end through a stub sbatch, on a small workflow of its own.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from helpers.sbatch import option as _option

REPO = Path(__file__).resolve().parents[1]
PROFILE = REPO / "profiles" / "slurm"
SITE_EXAMPLE = REPO / "profiles" / "slurm-site-example"
GPU_RULES = ("sample_solutions", "finetune", "evaluate", "evaluate_base", "evaluate_transfer", "judge_solutions")

# Snakemake's CLI with the dry-run executor's run_job wrapped: it writes each job's rule, threads and resources
# to argv[1] (as JSON) and runs on argv[2:]. --cores is large, as on a cluster, so threads are not capped.
PROBE = """
import json, sys
from snakemake import cli
from snakemake.executors import dryrun

jobs = []
run_job = dryrun.Executor.run_job

def recording(self, job):
    resources = {name: value for name, value in job.resources.items() if not name.startswith("_")}
    jobs.append({"rule": job.name, "threads": job.threads,
                 "resources": {name: value if isinstance(value, (int, float)) else str(value)
                               for name, value in resources.items()}})
    return run_job(self, job)

dryrun.Executor.run_job = recording
code = 0
try:
    cli.main(sys.argv[2:])
except SystemExit as exit:
    code = exit.code
with open(sys.argv[1], "w") as out:
    json.dump(jobs, out)
sys.exit(code)
"""


class _Resources(dict):
    """What the plugin reads of ``job.resources``: ``.get(name)`` and ``.name``."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def _job(rule: str, threads: int, resources: dict) -> SimpleNamespace:
    return SimpleNamespace(name=rule, threads=threads, resources=_Resources(resources), is_group=lambda: False)


def render(job: SimpleNamespace) -> list[str]:
    """The sbatch argv the plugin's run_job would submit for ``job`` (without --wrap), as it builds it."""
    from snakemake_executor_plugin_slurm import Executor
    from snakemake_executor_plugin_slurm.submit_string import get_submit_command
    from snakemake_executor_plugin_slurm.utils import set_gres_string
    from snakemake_executor_plugin_slurm.validation import validate_slurm_extra

    profile = yaml.safe_load((PROFILE / "config.yaml").read_text())
    validate_slurm_extra(job)
    # A job with slurm_partition set gets it as is; no sinfo is consulted.
    partition = Executor.get_partition_arg(SimpleNamespace(_partitions=None, _fallback_partition=None), job)
    params = {"run_uuid": "run-id", "slurm_logfile": "slurm_logs/%j.log", "comment_str": f"rule_{job.name}",
              "account": "", "partition": partition, "workdir": "/work"}
    settings = SimpleNamespace(requeue=profile.get("slurm-requeue", False), no_requeue=False, qos=None,
                               reservation=None)
    call = get_submit_command(job, params, settings=settings, failed_nodes=set())
    call += set_gres_string(job)
    return shlex.split(call)


@pytest.fixture(scope="module")
def config():
    from weakstrong.config import load

    return load(REPO / "config.yaml")


@pytest.fixture(scope="module")
def study_jobs(tmp_path_factory) -> dict[str, list[dict]]:
    """{rule: [its jobs' {threads, resources}]} of config.yaml's study, with the site example profile."""
    pytest.importorskip("snakemake_executor_plugin_slurm")
    workdir = tmp_path_factory.mktemp("slurm-requests")
    record = workdir / "jobs.json"
    proc = subprocess.run([sys.executable, "-c", PROBE, str(record), "-s", str(REPO / "Snakefile"), "--dry-run",
                           "--cores", "256", "--profile", str(PROFILE), "--workflow-profile", str(SITE_EXAMPLE),
                           "--configfile", str(REPO / "config.yaml"), "--directory", str(workdir)],
                          cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout[-4000:]
    jobs = {}
    for job in json.loads(record.read_text()):
        jobs.setdefault(job["rule"], []).append({"threads": job["threads"], "resources": job["resources"]})
    return jobs


def test_every_gpu_rule_is_in_the_dry_run_with_one_set_of_resources(study_jobs, config):
    assert set(GPU_RULES) <= set(study_jobs), sorted(study_jobs)
    # The GPU rules are the ones the study config gives GPUs, and the judge (gpu: 0 in the paper, API judge).
    assert {rule for rule in config.resources if config.rule_resources(rule)["gpu"] > 0} | {"judge_solutions"} \
        == set(GPU_RULES)
    for rule in GPU_RULES:
        first = study_jobs[rule][0]
        assert all(job == first for job in study_jobs[rule]), rule
        assert first["resources"]["gpu"] == config.rule_resources(rule)["gpu"], rule


@pytest.mark.parametrize("rule", GPU_RULES)
def test_sbatch_request_of_a_gpu_rule(rule, study_jobs, config):
    job = study_jobs[rule][0]
    argv = render(_job(rule, job["threads"], job["resources"]))
    gpus = config.rule_resources(rule)["gpu"]
    print(rule, " ".join(argv))
    # One node, whatever the GPU count: Slurm cannot spread --gpus=N over nodes.
    assert _option(argv, "--nodes") == "1", argv
    requests = [arg for arg in argv if arg.startswith("--gpus") or arg.startswith("--gres")]
    if gpus > 0:
        assert requests == [f"--gpus=a100:{gpus}"], argv
        assert _option(argv, "-p") == "gpu" and _option(argv, "--cpus-per-gpu") == "8", argv
        assert _option(argv, "--cpus-per-task") is None and _option(argv, "--ntasks") is None, argv
    else:
        # The paper's judge is an API model: a CPU job, no GPU request at all (never --gpus=a100:0).
        assert requests == [], argv
        assert _option(argv, "-p") == "cpu", argv
        assert _option(argv, "--cpus-per-task") == str(config.rule_resources(rule)["threads"]), argv
        assert _option(argv, "--ntasks") == "1", argv
    assert _option(argv, "-t") == str(config.rule_resources(rule)["runtime"]), argv
    assert _option(argv, "--mem") == str(config.rule_resources(rule)["mem_mb"]), argv
    assert "--requeue" in argv, argv


def test_cpu_rules_ask_for_one_node_and_no_gpu(study_jobs):
    for rule in ("prepare_dataset", "grade_samples"):
        job = study_jobs[rule][0]
        argv = render(_job(rule, job["threads"], job["resources"]))
        assert _option(argv, "--nodes") == "1" and _option(argv, "--ntasks") == "1", argv
        assert not any(arg.startswith(("--gpus", "--gres")) for arg in argv), argv


def test_gpu_model_on_a_zero_gpu_rule_would_ask_for_zero_gpus():
    """Why the site example gives no rule with gpu 0 a gpu_model: the plugin renders it whatever the count."""
    argv = render(_job("judge_solutions", 4, {"gpu": 0, "gpu_model": "a100", "slurm_partition": "gpu",
                                              "runtime": 240, "mem_mb": 16000, "nodes": 1}))
    assert "--gpus=a100:0" in argv


def test_site_example_gives_gpu_model_only_to_rules_with_gpus(config):
    site = yaml.safe_load((SITE_EXAMPLE / "config.yaml").read_text())
    for rule, resources in site["set-resources"].items():
        if "gpu_model" in resources:
            gpu = resources.get("gpu", config.rule_resources(rule)["gpu"])
            assert gpu > 0, f"{rule}: gpu_model with gpu {gpu} renders --gpus={resources['gpu_model']}:{gpu}"
