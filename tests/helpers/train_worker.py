"""One tiny finetuning run through weakstrong.training.train, for the multi-process test.

Run as ``python train_worker.py OUT MICRO_BATCH`` (1 process) or under ``torchrun --nproc_per_node 2``: the
model, data and settings are the same, only the split of the global batch over processes differs.
"""
import sys

import torch

from weakstrong.models import init_toy_model, train_tokenizer
from weakstrong.prompts import sft_example
from weakstrong.toy import make_splits, pretraining_documents
from weakstrong.training import TrainSettings, train

SPEC = {"hidden_size": 32, "layers": 1, "heads": 1, "intermediate_size": 64, "max_positions": 256}

if __name__ == "__main__":
    out, micro = sys.argv[1], int(sys.argv[2])
    torch.set_num_threads(1)
    problems = make_splits("gsm8k", {"train": 48, "pretrain": 200}, 5)
    tokenizer = train_tokenizer(pretraining_documents({"gsm8k": problems["pretrain"]}, per_document=3, seed=0), 300)
    examples = [sft_example(p["question"], p["solution"], "gsm8k") for p in problems["train"]]
    settings = TrainSettings(lr=3e-3, steps=12, batch_size=8, micro_batch_size=micro, checkpoints=2, seed=11,
                             max_length=256, precision="fp32")
    train(init_toy_model(SPEC, tokenizer, seed=0), tokenizer, examples, out, settings, progress=False)
