"""Where a study's numbers were computed: the machine records that model jobs write
(``weakstrong.numerics.machine_record``), gathered into ``provenance.json`` and turned into the sentence that
Table 1's caption, the findings and the paper carry. Plain data, no torch: the light rules use it."""

from __future__ import annotations


def machine_label(record: dict) -> str:
    """One line: ``AMD EPYC (x86_64; avx2 kernels, pinned; 1 thread; torch 2.13.0, ...)``. The kernel build
    vLLM chose is a property of a job on the machine, not of the machine: :func:`provenance` counts it apart."""
    pinned = "pinned" if record["pin"] != "native" else "native, not pinned"
    threads = f"{record['threads']} thread" + ("s" if record["threads"] != 1 else "")
    versions = ", ".join(f"{name} {version}" for name, version in record["versions"].items())
    return f"{record['cpu']} ({record['architecture']}; {record['kernels']} kernels, {pinned}; {threads}; {versions})"


def describe_machines(machines: list[dict]) -> str:
    """A caption sentence naming each machine of :func:`provenance` (``label``, ``vllm_kernels``), and the
    kernels vLLM chose by itself where jobs sampled or evaluated with it."""
    if not machines:
        return "The machine is not recorded."
    parts = []
    for machine in machines:
        vllm = machine.get("vllm_kernels") or {}
        jobs = sum(vllm.values())
        parts.append(machine["label"] + (
            f", where vLLM chose its own {' and '.join(sorted(vllm))} kernels by the CPU "
            f"({jobs} job{'s' if jobs != 1 else ''})" if vllm else ""))
    if len(parts) == 1:
        return f"Computed on {parts[0]}."
    return f"Computed on {len(parts)} kinds of machine: " + "; ".join(parts) + "."


def provenance(records_by_stage: dict[str, list[dict | None]], numerics: dict) -> dict:
    """``provenance.json``: each distinct machine with how many jobs of each stage ran on it and the vLLM
    kernel builds its vLLM jobs ran, the pin, and the caption sentence. A job output written before machines
    were recorded counts as unrecorded."""
    machines: dict[str, dict] = {}
    unrecorded = {}
    for stage, records in records_by_stage.items():
        for record in records:
            if not record:
                unrecorded[stage] = unrecorded.get(stage, 0) + 1
                continue
            label = machine_label(record)
            entry = machines.setdefault(label, {"label": label, "record": {k: v for k, v in record.items()
                                                                           if k != "vllm_kernels"},
                                                "jobs": {}, "vllm_kernels": {}})
            entry["jobs"][stage] = entry["jobs"].get(stage, 0) + 1
            if record.get("vllm_kernels"):
                entry["vllm_kernels"][record["vllm_kernels"]] = entry["vllm_kernels"].get(record["vllm_kernels"], 0) + 1
    entries = sorted(machines.values(), key=lambda e: e["label"])
    caption = describe_machines(entries)
    if unrecorded:
        caption += " Not recorded for " + ", ".join(f"{n} {stage} job{'s' if n > 1 else ''}"
                                                    for stage, n in unrecorded.items()) + "."
    return {"numerics": numerics, "machines": entries, "unrecorded": unrecorded, "caption": caption}
