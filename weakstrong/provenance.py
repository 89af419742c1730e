"""Where a study's numbers were computed: the machine records that model jobs write
(``weakstrong.numerics.machine_record``), gathered into ``provenance.json`` and turned into the sentence that
Table 1's caption, the findings and the paper carry. Plain data, no torch: the light rules use it."""

from __future__ import annotations


def machine_label(record: dict) -> str:
    """One line: ``AMD EPYC (x86_64; avx2 kernels, pinned; 1 thread; torch 2.13.0, ...)``."""
    pinned = "pinned" if record["pin"] != "native" else "native, not pinned"
    threads = f"{record['threads']} thread" + ("s" if record["threads"] != 1 else "")
    versions = ", ".join(f"{name} {version}" for name, version in record["versions"].items())
    vllm = f"; vLLM's {record['vllm_kernels']} kernels, by CPU" if record.get("vllm_kernels") else ""
    return (f"{record['cpu']} ({record['architecture']}; {record['kernels']} kernels, {pinned}{vllm}; {threads}; "
            f"{versions})")


def describe_machines(records: list[dict]) -> str:
    """A caption sentence naming every distinct machine record among a table's jobs."""
    labels = sorted({machine_label(r) for r in records if r})
    if not labels:
        return "The machine is not recorded."
    if len(labels) == 1:
        return f"Computed on {labels[0]}."
    return f"Computed on {len(labels)} kinds of machine: " + "; ".join(labels) + "."


def provenance(records_by_stage: dict[str, list[dict | None]], numerics: dict) -> dict:
    """``provenance.json``: each distinct machine record with how many jobs of each stage ran on it, the pin,
    and the caption sentence. A job output written before machines were recorded counts as unrecorded."""
    machines: dict[str, dict] = {}
    unrecorded = {}
    for stage, records in records_by_stage.items():
        for record in records:
            if not record:
                unrecorded[stage] = unrecorded.get(stage, 0) + 1
                continue
            entry = machines.setdefault(machine_label(record), {"label": machine_label(record), "record": record,
                                                                "jobs": {}})
            entry["jobs"][stage] = entry["jobs"].get(stage, 0) + 1
    caption = describe_machines([entry["record"] for entry in machines.values()])
    if unrecorded:
        caption += " Not recorded for " + ", ".join(f"{n} {stage} job{'s' if n > 1 else ''}"
                                                    for stage, n in unrecorded.items()) + "."
    return {"numerics": numerics, "machines": sorted(machines.values(), key=lambda e: e["label"]),
            "unrecorded": unrecorded, "caption": caption}
