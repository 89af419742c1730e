"""Pinned CPU numerics: the environment each setting stands for, the check in every job, the machine record
and provenance, and the pin's effect on a real pre-training and sampling (weakstrong.numerics)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
import torch

from weakstrong import numerics, provenance

from conftest import REPO

PIN = {"cpu_capability": "avx2", "cpu_threads": 1}


def test_the_pin_sets_every_library_to_the_same_instruction_set():
    env = numerics.job_environment(PIN)
    assert env == {"ATEN_CPU_CAPABILITY": "avx2", "MKL_CBWR": "COMPATIBLE", "ONEDNN_MAX_CPU_ISA": "AVX2",
                   "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    # native sets nothing; no thread count leaves the job's Snakemake threads
    assert numerics.job_environment({"cpu_capability": "native", "cpu_threads": None}) == {}
    assert numerics.job_threads({"cpu_capability": "native", "cpu_threads": None}, 4) == 4
    assert numerics.job_threads(PIN, 4) == 1


def test_an_unknown_capability_is_refused_with_the_key_named():
    with pytest.raises(ValueError, match="numerics.cpu_capability"):
        numerics.job_environment({"cpu_capability": "sse9", "cpu_threads": None})


def test_a_job_without_the_pin_stops_before_any_model(monkeypatch):
    for name in numerics.job_environment(PIN):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(RuntimeError, match="ATEN_CPU_CAPABILITY=None \\(expected 'avx2'\\)"):
        numerics.apply(PIN)


def test_a_job_with_the_pin_sets_its_threads_and_records_its_machine(monkeypatch, capsys):
    for name, value in numerics.job_environment(PIN).items():
        monkeypatch.setenv(name, value)
    previous = torch.get_num_threads()
    try:
        record = numerics.apply({"cpu_capability": "avx2", "cpu_threads": 2}, snakemake_threads=1, backend="vllm")
        assert torch.get_num_threads() == 2 and record["threads"] == 2
    finally:
        torch.set_num_threads(previous)
    assert record["pin"] == "avx2" and record["architecture"] and record["cpu"]
    assert record["versions"]["torch"] == torch.__version__
    assert record["vllm_kernels"] in ("avx2", "avx512", "avx512_bf16") or not record["architecture"].startswith("x86")
    out = capsys.readouterr().out
    assert "numerics: " in out
    # this test process imported torch before the variable was set, so it runs the machine's own kernels: the
    # job says so instead of claiming the pin
    if record["kernels"] != "avx2":
        assert "WARNING: numerics.cpu_capability is 'avx2'" in out


def _record(cpu: str, kernels: str = "avx2") -> dict:
    return {"cpu": cpu, "architecture": "x86_64", "isa": ["avx2"], "kernels": kernels, "pin": "avx2", "threads": 1,
            "versions": {"torch": "2.13.0"}}


def test_a_caption_names_one_machine_or_each_of_several():
    one = provenance.provenance({"evaluation": [_record("Intel Xeon"), _record("Intel Xeon")]}, PIN)
    assert one["caption"] == "Computed on Intel Xeon (x86_64; avx2 kernels, pinned; 1 thread; torch 2.13.0)."
    two = provenance.provenance({"evaluation": [_record("Intel Xeon"), _record("AMD EPYC")]}, PIN)["caption"]
    assert two.startswith("Computed on 2 kinds of machine: AMD EPYC") and "; Intel Xeon" in two
    assert provenance.describe_machines([]) == "The machine is not recorded."
    native = {**_record("AMD EPYC", "avx512"), "pin": "native", "threads": 2}
    assert provenance.machine_label(native) == ("AMD EPYC (x86_64; avx512 kernels, native, not pinned; 2 threads; "
                                                "torch 2.13.0)")


def test_vllms_own_kernels_are_a_note_on_the_machine_not_another_machine():
    sampled = {**_record("AMD EPYC"), "vllm_kernels": "avx512_bf16"}
    result = provenance.provenance({"sampling": [sampled, sampled], "evaluation": [_record("AMD EPYC")]}, PIN)
    [machine] = result["machines"]
    assert machine["jobs"] == {"sampling": 2, "evaluation": 1} and machine["vllm_kernels"] == {"avx512_bf16": 2}
    assert "vllm_kernels" not in machine["record"]
    assert result["caption"] == ("Computed on AMD EPYC (x86_64; avx2 kernels, pinned; 1 thread; torch 2.13.0), "
                                 "where vLLM chose its own avx512_bf16 kernels by the CPU (2 jobs).")


def test_provenance_counts_each_stage_per_machine_and_says_what_is_unrecorded():
    result = provenance.provenance({"pre-training": [_record("A"), _record("A")], "sampling": [_record("B")],
                                    "evaluation": [_record("A"), None]}, PIN)
    assert [entry["jobs"] for entry in result["machines"]] == [{"pre-training": 2, "evaluation": 1}, {"sampling": 1}]
    assert result["unrecorded"] == {"evaluation": 1}
    assert result["caption"].endswith("Not recorded for 1 evaluation job.")
    assert result["numerics"] == PIN


# --- the pin on a real pre-training and sampling --------------------------------------------------------------

def _probe(env: dict) -> dict:
    """``python -m weakstrong.numerics`` (a tiny Llama trained 120 steps, then 64 samples at T = 0.7) in a fresh
    process: ATen reads ATEN_CPU_CAPABILITY once, when torch loads."""
    env = {key: value for key, value in os.environ.items() if key not in numerics.job_environment(PIN)} | env
    proc = subprocess.run([sys.executable, "-m", "weakstrong.numerics"], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def _pinned(machine_env: dict) -> dict:
    """A job's environment on a machine whose own setting is ``machine_env``: the workflow's pin over it."""
    return machine_env | numerics.job_environment(PIN)


@pytest.mark.skipif(not torch.cpu._is_avx2_supported(), reason="needs an x86 CPU with AVX2 (two kernel settings)")
def test_the_pin_makes_two_kernel_settings_give_the_same_weights_and_samples():
    # Two machines simulated on this one: the kernels of a CPU without AVX2 (default), on two threads, and of
    # an AVX2 CPU. Unpinned they train other weights and draw other samples; pinned, the same bits.
    machines = [{"ATEN_CPU_CAPABILITY": "default", "OMP_NUM_THREADS": "2"}, {"ATEN_CPU_CAPABILITY": "avx2"}]
    with ThreadPoolExecutor(2) as pool:
        unpinned = list(pool.map(_probe, machines))
        pinned = list(pool.map(_probe, [_pinned(machine) for machine in machines]))
    assert [run["machine"]["kernels"] for run in unpinned] == ["default", "avx2"]
    assert unpinned[0]["probe"]["weights"] != unpinned[1]["probe"]["weights"]
    assert unpinned[0]["probe"]["samples"] != unpinned[1]["probe"]["samples"]
    assert [run["machine"]["kernels"] for run in pinned] == ["avx2", "avx2"]
    assert pinned[0]["probe"] == pinned[1]["probe"]


def test_seeded_transformers_sampling_draws_the_same_samples_every_time():
    """The toy world samples through transformers: the same seed gives the same samples, another seed others."""
    from weakstrong.models import init_toy_model, train_tokenizer
    from weakstrong.sampling import SamplingParams
    from weakstrong.sampling.transformers_backend import generate
    from weakstrong.toy import gsm8k_problem

    problems = [gsm8k_problem(0, "train", i) for i in range(16)]
    tokenizer = train_tokenizer([p["question"] + " " + p["solution"] for p in problems], vocab_size=300)
    model = init_toy_model({"hidden_size": 32, "layers": 1, "heads": 1, "intermediate_size": 64,
                            "max_positions": 256}, tokenizer, seed=0)
    prompts = [p["question"] for p in problems]

    def draw(seed):
        return generate(model, prompts, SamplingParams(n=3, temperature=0.7, max_tokens=16, seed=seed),
                        tokenizer=tokenizer, progress=False, batch_size=8)

    first = draw(1)
    assert draw(1) == first
    assert draw(2) != first


def test_a_program_outside_snakemake_starts_again_under_the_pin(tmp_path):
    script = tmp_path / "show.py"
    script.write_text("import os, torch\nfrom weakstrong.numerics import run_pinned\n"
                      "run_pinned({'cpu_capability': 'avx2', 'cpu_threads': 1})\n"
                      "print(os.environ['MKL_CBWR'], torch.backends.cpu.get_cpu_capability().lower())\n")
    env = {k: v for k, v in os.environ.items() if k not in numerics.job_environment(PIN)}
    proc = subprocess.run([sys.executable, str(script)], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    # torch was imported before the pin, so the capability shows the restart took effect
    assert proc.stdout.split() == ["COMPATIBLE", "avx2"] or not torch.cpu._is_avx2_supported()
