"""Bad inputs (issue 15): each one stops with an error that names the file, line, key or step, or (for the grader)
gets a verdict promptly; and nothing finished is lost.

Covered: a config naming an unknown model; a dataset file that is missing, empty, not UTF-8, has a row without an
answer or a duplicated id; a model directory without a tokenizer; completions of 100 kB, of control characters
or with 500 nested braces; a NaN or inf loss (or weights) during finetuning; a full disk while a shard is
written; a hosted model without its API key.
"""

from __future__ import annotations

import errno
import json
import math
import os
import subprocess
import time
from pathlib import Path

import pytest
import torch
import yaml

from weakstrong import config, data, training
from weakstrong.grading import extract_answer, grade_many
from weakstrong.models import init_toy_model, load_model_and_tokenizer, train_tokenizer
from weakstrong.prompts import sft_example
from weakstrong.toy import make_splits, pretraining_documents
from helpers.tiny_models import TINY_SPEC as SPEC, one_torch_thread  # noqa: F401 (autouse fixture)
from weakstrong.training import CHECKPOINT_PREFIX, STATE_DIR, TrainSettings, train

REPO = Path(__file__).resolve().parents[1]


# --- config ---------------------------------------------------------------------------------------------------

@pytest.fixture
def test_config():
    return yaml.safe_load((REPO / "configs" / "test.yaml").read_text())


def test_config_with_an_unknown_model_names_the_key_and_file(tmp_path, test_config):
    pair = next(iter(test_config["generator_pairs"]))
    test_config["generator_pairs"][pair]["weak"] = "no-such-model"
    test_config["generator_pairs"][pair]["students"].append("ghost-student")
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(test_config))
    with pytest.raises(config.ConfigError) as info:
        config.load(path)
    message = str(info.value)
    assert str(path) in message
    assert f"config key 'generator_pairs.{pair}.weak': unknown model 'no-such-model'" in message
    assert "unknown model 'ghost-student'" in message  # every problem is listed, not just the first


def test_config_not_utf8_names_the_file(tmp_path, test_config):
    path = tmp_path / "study.yaml"
    path.write_bytes(yaml.safe_dump(test_config).encode() + b"# caf\xe9\n")
    with pytest.raises(config.ConfigError, match=rf"{path}: not UTF-8"):
        config.load(path)


# --- dataset files --------------------------------------------------------------------------------------------

def _rows(n: int, prefix: str = "q") -> list[dict]:
    return [{"question": f"{prefix} question {i}", "answer": f"Work {i}\n#### {i}"} for i in range(n)]


def _dataset(train: Path, test: Path) -> dict:
    return {"style": "gsm8k", "few_shot": 1, "validation": {"from": "train", "size": 1},
            "source": {"jsonl": {"train": str(train), "test": str(test)}}}


@pytest.fixture
def good_test_file(tmp_path):
    path = tmp_path / "test.jsonl"
    data.write_jsonl(path, _rows(3, "test"))
    return path


def test_missing_dataset_file_names_the_file_and_key(tmp_path, good_test_file):
    missing = tmp_path / "nowhere" / "train.jsonl"
    with pytest.raises(FileNotFoundError) as info:
        data.prepare_splits(_dataset(missing, good_test_file), "d", seed=0)
    assert str(missing) in str(info.value) and "source.jsonl.train" in str(info.value)


@pytest.mark.parametrize("content", [b"", b"\n  \n\n"], ids=["zero-bytes", "blank-lines"])
def test_empty_dataset_file_is_refused_not_an_empty_split(tmp_path, good_test_file, content):
    empty = tmp_path / "train.jsonl"
    empty.write_bytes(content)
    with pytest.raises(ValueError, match=rf"{empty} \(source.jsonl.train\) is empty"):
        data.prepare_splits(_dataset(empty, good_test_file), "d", seed=0)


def test_dataset_file_not_utf8_names_file_and_line(tmp_path, good_test_file):
    path = tmp_path / "train.jsonl"
    data.write_jsonl(path, _rows(3))
    lines = path.read_bytes().splitlines(keepends=True)
    lines[1] = lines[1].replace(b"question 1", b"caf\xe9 question")  # Latin-1, as a careless export writes it
    path.write_bytes(b"".join(lines))
    with pytest.raises(ValueError, match=rf"{path}, line 2, byte \d+: not UTF-8"):
        data.prepare_splits(_dataset(path, good_test_file), "d", seed=0)
    with pytest.raises(ValueError, match=rf"{path}, line 2, byte \d+: not UTF-8"):
        data.read_jsonl(path)  # every reader of JSON Lines gets the same message


@pytest.mark.parametrize("bad_row, expected", [
    ({"question": "q"}, "no answer"),
    ({"question": "q", "answer": None}, "no answer"),
    ({"question": "q", "answer": "   "}, "no answer"),
    ({"question": "q", "answer": "Work\n#### "}, "no answer"),       # "####" with nothing after it
    ({"question": "q", "answer": "Work\n#### ,"}, "no answer"),
    ({"question": "", "answer": "#### 3"}, "'question' is empty"),
    ({"problem": "p", "solution": "no box anywhere"}, "no \\\\boxed answer"),
    ({"problem": "p", "solution": "no box", "answer": ""}, "no \\\\boxed answer"),
    ({"problem": "p", "answer": "3"}, "no solution"),
    (["not", "an", "object"], "expected a JSON object"),
], ids=["no-key", "null", "blank", "empty-####", "comma-####", "no-question", "math-no-box", "math-blank",
        "math-no-solution", "not-an-object"])
def test_row_without_an_answer_names_file_and_line(tmp_path, good_test_file, bad_row, expected):
    path = tmp_path / "train.jsonl"
    data.write_jsonl(path, _rows(2) + [bad_row] + _rows(2, "later"))
    with pytest.raises(ValueError, match=rf"{path}: record at line 3: .*{expected}"):
        data.prepare_splits(_dataset(path, good_test_file), "d", seed=0)


def test_numeric_answer_is_accepted_as_text():
    record = data.normalize({"question": "q", "answer": 42}, "gsm8k", "r1")
    assert record["answer"] == "42" and record["solution"] == "42"


@pytest.mark.parametrize("key", ["id", "unique_id"])
def test_duplicated_id_in_one_file_names_both_lines(tmp_path, good_test_file, key):
    rows = [{"problem": f"p{i}", "solution": f"so $\\boxed{{{i}}}$", key: f"item-{i % 3}"} for i in range(5)]
    path = tmp_path / "train.jsonl"
    data.write_jsonl(path, rows)
    dataset = {**_dataset(path, good_test_file), "style": "math"}
    with pytest.raises(ValueError, match=rf"{path}: id 'item-0' appears twice, on lines 1 and 4"):
        data.prepare_splits(dataset, "d", seed=0)


def test_rows_without_ids_and_a_good_file_still_load(tmp_path, good_test_file):
    path = tmp_path / "train.jsonl"
    data.write_jsonl(path, _rows(5))
    splits, _ = data.prepare_splits(_dataset(path, good_test_file), "d", seed=0)
    assert {k: len(v) for k, v in splits.items()} == {"train": 3, "validation": 1, "test": 3, "exemplars": 1}


# --- a model directory without a tokenizer ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def problems():
    return make_splits("gsm8k", {"train": 24, "pretrain": 120}, 5)


@pytest.fixture(scope="module")
def tokenizer(problems):
    return train_tokenizer(pretraining_documents({"gsm8k": problems["pretrain"]}, per_document=3, seed=0), 300)


def test_model_directory_without_tokenizer_names_the_directory(tmp_path, tokenizer):
    model_dir = tmp_path / "student"
    init_toy_model(SPEC, tokenizer, seed=0).save_pretrained(model_dir)  # weights and config, no tokenizer
    started = time.monotonic()
    with pytest.raises(FileNotFoundError) as info:
        load_model_and_tokenizer(model_dir)
    message = str(info.value)
    assert str(model_dir) in message and "no tokenizer" in message and "tokenizer.json" in message
    assert time.monotonic() - started < 5  # refused before any weights are read
    tokenizer.save_pretrained(model_dir)
    model, loaded = load_model_and_tokenizer(model_dir)  # with its tokenizer, the same directory loads
    assert loaded.pad_token_id == tokenizer.pad_token_id


def test_model_directory_that_does_not_exist_is_not_a_hub_lookup(tmp_path):
    missing = tmp_path / "models" / "gone"
    with pytest.raises(FileNotFoundError, match=rf"model directory {missing} does not exist"):
        load_model_and_tokenizer(missing)


# --- pathological completions -------------------------------------------------------------------------------------

NESTED = 500
PATHOLOGICAL = {
    "100kB-prose-then-answer": "The answer is 7. " * 6_000 + "So $\\boxed{7}$.\n#### 7",
    "100kB-no-answer": "x" * 100_000,
    "100kB-one-number": "\\boxed{" + "1" * 100_000 + "}\n#### " + "9" * 100_000,
    "100kB-unclosed-boxes": "\\boxed{" * 15_000,
    "100kB-many-boxes": "\\boxed{1} " * 10_000 + "\\boxed{7}",
    "100kB-sum": "\\boxed{" + "x+" * 50_000 + "1}",
    "control-characters": "".join(map(chr, range(32))) * 100 + "\x7f\x00\\boxed{7}\x07\n#### 7\x1b[0m",
    "only-control-characters": "\x00\x01\x02\x1b\x7f\x9b" * 2_000,
    "control-inside-answer": "\\boxed{7\x00\x1b}\n#### 7\x00\x07",
    "500-nested-braces": "\\boxed{" + "{" * NESTED + "7" + "}" * NESTED + "}\n#### " + "{" * NESTED + "7" + "}" * NESTED,
    "500-unclosed-braces": "\\boxed{" + "{" * NESTED + "7\n#### " + "{" * NESTED,
    "500-nested-fracs": "\\boxed{" + "\\frac{1}{" * NESTED + "2" + "}" * NESTED + "}",
    "500-nested-parens": "\\boxed{" + "(" * NESTED + "7" + ")" * NESTED + "}\n#### " + "(" * NESTED + "7" + ")" * NESTED,
}


@pytest.mark.parametrize("style", ["math", "gsm8k"])
def test_pathological_completions_get_a_verdict_promptly(style):
    names = list(PATHOLOGICAL)
    for name in names:
        # CPU time, not wall time: a loaded machine must not fail this, a regex that backtracks must
        started = time.process_time()
        answer = extract_answer(PATHOLOGICAL[name], style)
        assert time.process_time() - started < 2, f"extract_answer on {name} took too long"
        assert answer is None or isinstance(answer, str)
    timeout = 2.0
    verdicts = grade_many([PATHOLOGICAL[n] for n in names], ["7"] * len(names), style, timeout=timeout, workers=2)
    assert len(verdicts) == len(names)
    # Promptly: at most a few pairs run out their deadline (the rest get a verdict well within it). Counted in
    # verdicts, not seconds, so that a loaded machine cannot fail the test.
    undecided = [name for name, verdict in zip(names, verdicts) if verdict["undecided"]]
    assert len(undecided) <= 3, undecided
    for name, verdict in zip(names, verdicts):
        assert isinstance(verdict["correct"], bool) and isinstance(verdict["undecided"], bool), name
        assert not (verdict["correct"] and verdict["undecided"]), name
        if verdict["undecided"]:
            assert verdict["reason"], name
    by_name = dict(zip(names, verdicts))
    assert by_name["100kB-prose-then-answer"]["correct"]  # a long completion with a clear answer is still right
    assert by_name["control-characters"]["correct"]
    assert not by_name["100kB-no-answer"]["correct"] and not by_name["100kB-no-answer"]["undecided"]


# --- NaN or inf loss during finetuning ----------------------------------------------------------------------------

def _examples(problems):
    return [sft_example(p["question"], p["solution"], "gsm8k") for p in problems["train"]]


def _settings(**overrides):
    values = dict(lr=3e-3, steps=8, batch_size=4, checkpoints=4, seed=11, max_length=256)
    values.update(overrides)
    return TrainSettings(**values)


def _poison_loss_at(model, monkeypatch, call: int, value: float) -> None:
    """The ``call``-th forward pass (1-based; one per optimizer step here) returns a ``value`` loss."""
    original, calls = model.forward, []

    def forward(*args, **kwargs):
        out = original(*args, **kwargs)
        calls.append(1)
        if len(calls) == call:
            out.loss = out.loss * value if math.isnan(value) else out.loss + value
        return out

    monkeypatch.setattr(model, "forward", forward)


def _checkpoints(out: Path) -> dict[int, Path]:
    return {int(p.name[len(CHECKPOINT_PREFIX):]): p for p in out.iterdir() if p.name.startswith(CHECKPOINT_PREFIX)}


def _all_finite(checkpoint: Path) -> bool:
    from safetensors.torch import load_file

    return all(torch.isfinite(t).all() for t in load_file(checkpoint / "model.safetensors").values())


@pytest.mark.parametrize("value, bad_step", [(float("nan"), 5), (float("inf"), 3)], ids=["nan", "inf"])
def test_non_finite_loss_stops_at_its_step_and_keeps_the_last_good_checkpoint(
        tmp_path, problems, tokenizer, monkeypatch, value, bad_step):
    examples, settings = _examples(problems), _settings()
    model = init_toy_model(SPEC, tokenizer, seed=0)
    _poison_loss_at(model, monkeypatch, bad_step, value)
    with pytest.raises(FloatingPointError) as info:
        train(model, tokenizer, examples, tmp_path, settings, progress=False)
    message = str(info.value)
    last_good = (bad_step - 1) // 2 * 2  # checkpoints at 2, 4, 6, 8
    assert f"the training loss is {value} at step {bad_step} of 8" in message
    assert str(tmp_path) in message and f"{CHECKPOINT_PREFIX}{last_good}" in message
    # the checkpoints written before the bad step stay, the newest one with its resume state; no later one, no
    # half-written one, and no weights of the bad step anywhere
    kept = _checkpoints(tmp_path)
    assert sorted(kept) == list(range(2, bad_step, 2))
    assert (kept[last_good] / STATE_DIR).is_dir()
    assert all(_all_finite(path) for path in kept.values())
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    # nothing finished is lost: a rerun (the cause fixed) resumes from the last good checkpoint
    saved = []
    original = training._save_checkpoint
    monkeypatch.setattr(training, "_save_checkpoint",
                        lambda acc, m, tok, out, step, *a: (saved.append(step), original(acc, m, tok, out, step, *a))[1])
    train(init_toy_model(SPEC, tokenizer, seed=1), tokenizer, examples, tmp_path, settings, progress=False)
    assert saved == [s for s in (2, 4, 6, 8) if s > last_good]
    assert sorted(_checkpoints(tmp_path)) == [2, 4, 6, 8]


def test_huge_learning_rate_stops_without_saving_nan_weights(tmp_path, problems, tokenizer):
    with pytest.raises(FloatingPointError, match=r"at step \d+ of 8 \(lr 1e\+10"):
        train(init_toy_model(SPEC, tokenizer, seed=0), tokenizer, _examples(problems), tmp_path,
              _settings(lr=1e10, checkpoints=8), progress=False)
    assert all(_all_finite(path) for path in _checkpoints(tmp_path).values())


def test_non_finite_weights_after_a_finite_loss_are_not_saved(tmp_path, problems, tokenizer, monkeypatch):
    """An overflowing update can leave inf weights behind a finite loss: the checkpoint is refused."""
    model = init_toy_model(SPEC, tokenizer, seed=0)
    original, calls = model.forward, []

    def forward(*args, **kwargs):
        out = original(*args, **kwargs)
        calls.append(1)
        if len(calls) == 4:  # after the loss of step 4 is computed: corrupt a weight the update keeps
            model.model.norm.weight.data[0] = float("inf")
        return out

    monkeypatch.setattr(model, "forward", forward)
    with pytest.raises(FloatingPointError, match=r"weights are no longer finite \(NaN or inf\) at step 4 of 8"):
        train(model, tokenizer, _examples(problems), tmp_path, _settings(), progress=False)
    kept = _checkpoints(tmp_path)
    assert sorted(kept) == [2] and (kept[2] / STATE_DIR).is_dir() and _all_finite(kept[2])


# --- a full disk while a shard is written --------------------------------------------------------------------------

BIG = [{"id": str(i), "text": "y" * 1000} for i in range(200)]  # about 200 kB


def _check_failed_write(directory: Path, name: str, before: dict[str, bytes]) -> None:
    after = {p.name: p.read_bytes() for p in directory.iterdir()}
    assert name not in after or after[name] == before.get(name), "a half-written shard is left behind"
    assert after == before, f"left behind: {sorted(set(after) - set(before))}"  # the temp file is removed too


@pytest.fixture
def small_tmpfs(tmp_path):
    mount = tmp_path / "disk"
    mount.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True,
                          text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({proc.stderr.strip() or proc.returncode}); the "
                    f"monkeypatched ENOSPC test covers the same path")
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


def test_full_disk_leaves_no_half_written_shard_on_a_small_tmpfs(small_tmpfs):
    shard = small_tmpfs / "shard-0.jsonl"
    with pytest.raises(OSError) as info:
        data.write_jsonl(shard, BIG)
    assert info.value.errno == errno.ENOSPC
    _check_failed_write(small_tmpfs, shard.name, {})
    # an earlier, finished shard of the same name survives a rewrite that fails
    data.write_jsonl(shard, BIG[:3])
    before = {p.name: p.read_bytes() for p in small_tmpfs.iterdir()}
    with pytest.raises(OSError):
        data.write_jsonl(shard, BIG)
    _check_failed_write(small_tmpfs, shard.name, before)
    assert data.read_jsonl(shard) == BIG[:3]


def test_write_failing_midway_leaves_no_half_written_shard(tmp_path, monkeypatch):
    """The same without a tmpfs: the file write raises ENOSPC after some records have gone out."""
    real_open = open

    class FullDisk:
        def __init__(self, handle):
            self.handle, self.written = handle, 0

        def write(self, text):
            self.written += len(text)
            if self.written > 20_000:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return self.handle.write(text)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

        def __getattr__(self, name):
            return getattr(self.handle, name)

    monkeypatch.setattr(data, "open", lambda *a, **k: FullDisk(real_open(*a, **k)), raising=False)
    shard = tmp_path / "shard-0.jsonl"
    with pytest.raises(OSError) as info:
        data.write_jsonl(shard, BIG)
    assert info.value.errno == errno.ENOSPC
    _check_failed_write(tmp_path, shard.name, {})


# --- a hosted model without its API key ---------------------------------------------------------------------------

def test_hosted_model_without_api_key_names_the_variable(tmp_path, monkeypatch):
    from weakstrong.sampling import SamplingParams
    from weakstrong.sampling.openai_backend import generate

    monkeypatch.delenv("WEAKSTRONG_UNSET_KEY", raising=False)
    journal = tmp_path / "journal.jsonl"
    journal.write_text(json.dumps({"earlier": "finished requests"}) + "\n")
    before = journal.read_bytes()
    for value in (None, ""):  # unset, or set to nothing
        if value is not None:
            monkeypatch.setenv("WEAKSTRONG_UNSET_KEY", value)
        with pytest.raises(RuntimeError) as info:
            generate("gemini-x", ["Question: 1+1?"], SamplingParams(n=2), api={"api_key_env": "WEAKSTRONG_UNSET_KEY"},
                     progress=False, journal=journal)
        assert "WEAKSTRONG_UNSET_KEY" in str(info.value) and "'gemini-x'" in str(info.value)
        assert "openai_api.api_key_env" in str(info.value)
    assert journal.read_bytes() == before  # the requests an earlier run paid for are kept
