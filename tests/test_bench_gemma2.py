"""bench/gemma2_sft_check.py (issue 25's GPU check) in its CPU smoke mode, run as the GPU machine would run it:
``python -I`` in an environment that holds only torch, transformers, accelerate and their requirements (no
vLLM, Snakemake or pandas, and weakstrong not installed), checking the fields it prints."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "bench" / "gemma2_sft_check.py"
SMOKE = ["--model", "tiny", "--steps", "4", "--warmup", "1", "--repeats", "1", "--batch-size", "8",
         "--micro-batch-size", "4", "--length", "64", "--examples", "32", "--threads", "1"]


def _load_script():
    path = list(sys.path)
    try:  # the script puts bench/ and the repository on sys.path; this process keeps its own
        spec = importlib.util.spec_from_file_location("gemma2_sft_check", SCRIPT)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path[:] = path
    return module


@pytest.fixture(scope="module")
def minimal_python(tmp_path_factory) -> Path:
    """A virtual environment whose site-packages links only the distributions torch, transformers and
    accelerate need (this venv's files, nothing downloaded); its python."""
    script = _load_script()
    env = tmp_path_factory.mktemp("minimal-env")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True, timeout=60)
    site = next(env.glob("lib/python*/site-packages"))
    for name in script.requirement_closure(script.ALLOWED):
        dist = metadata.distribution(name)
        for top in {Path(str(file)).parts[0] for file in dist.files or []} - {".."}:
            source = Path(dist.locate_file(top))
            if source.exists() and not (site / top).exists():
                (site / top).symlink_to(source)
    python = env / "bin" / "python"
    for absent in ("vllm", "snakemake", "pandas", "weakstrong"):
        found = subprocess.run([str(python), "-I", "-c", f"import {absent}"], capture_output=True, cwd=env)
        assert found.returncode != 0, f"{absent} is importable in the minimal environment"
    return python


def test_smoke_mode_runs_with_only_torch_transformers_and_accelerate(minimal_python, tmp_path):
    done = subprocess.run([str(minimal_python), "-I", str(SCRIPT), *SMOKE], capture_output=True, text=True,
                          cwd=tmp_path, timeout=150)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    summary = json.loads(next(line for line in out.splitlines() if line.startswith("gemma2-check: "))
                         .removeprefix("gemma2-check: "))
    # The human-readable lines carry the fields the GPU run is read for.
    assert re.search(r"^ratio project / plain: \d+\.\d{3} \(per repeat: .*goal >= 0\.85\)$", out, re.M)
    assert "attention in force: project eager, plain eager" in out
    assert re.search(r"^rotary inv_freq after the first step: float32 \(model\.rotary_emb\.inv_freq", out, re.M)
    assert re.search(r"^checkpoint: [\d,]+ bytes .* saved in \d+\.\d+ s$", out, re.M)
    assert re.search(r"^save share of a 600-step run \(600 x \d+\.\d+ s = .*\): one save \d+\.\d+% \(goal < 10%\)",
                     out, re.M)
    assert "SMOKE MODE: vocabulary 4,096, not Gemma2's 256,000" in out
    assert "project dependencies imported beyond torch, transformers, accelerate and their requirements: none" in out
    assert re.search(r"^\| project \| [\d,]+ \| n/a \| \d+\.\d\d \| \d+\.\d\d \|$", out, re.M)
    # ... and the JSON line the same, checked for sense.
    assert summary["smoke"] and summary["vocab_size"] == 4096 and summary["model"] == "tiny"
    assert summary["ratio"] > 0 and all(summary["tokens_per_s"][loop] > 0 for loop in ("project", "plain"))
    assert summary["attention"] == {"project": ["eager"], "plain": ["eager"]}
    assert summary["inv_freq_dtype"] == ["float32"] and summary["buffer_dtypes"] == ["torch.float32"]
    assert summary["bytes_written"] > 100_000  # bf16 weights, fp32 master weights and AdamW state, tokenizer
    assert 0 < summary["save_share"] < summary["save_share_config"]
    assert summary["project_imports"] == []


def test_the_gpu_model_is_a_1b_gemma2_with_the_real_vocabulary():
    import torch
    from transformers import Gemma2ForCausalLM

    script = _load_script()

    class Tokenizer:
        pad_token_id, eos_token_id = 0, 1

    config = script.gemma2_config(script.MODELS["1b"], Tokenizer())
    with torch.device("meta"):
        model = Gemma2ForCausalLM(config)
    assert sum(p.numel() for p in model.parameters()) == 997_295_616
    assert (config.vocab_size, config.attn_logit_softcapping, config.final_logit_softcapping) == (256000, 50.0, 30.0)
    assert config.tie_word_embeddings and config.sliding_window == 4096
    assert set(config.layer_types) == {"sliding_attention", "full_attention"}
    assert all(spec["vocab_size"] == 256000 for name, spec in script.MODELS.items() if name != "tiny")
