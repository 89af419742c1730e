"""One rule for token boundaries, shared by finetuning, checkpoint validation, sampling and evaluation.

A prompt is encoded as the model's tokenizer encodes text by default, which is what vLLM does with a text
prompt: a BOS token first if the tokenizer adds one (Gemma, Llama), never an EOS at the end.  A finetuning
target is the completion's tokens without special tokens, then EOS, so the model learns to stop.  Training on
prompts without BOS and testing with it (or the reverse) would shift every position the model saw.
"""

from __future__ import annotations


def adds_bos(tokenizer) -> bool:
    """Whether the tokenizer puts its BOS token in front of encoded text by default."""
    bos = tokenizer.bos_token_id
    if bos is None:
        return False
    with_special = tokenizer("a", add_special_tokens=True)["input_ids"]
    without = tokenizer("a", add_special_tokens=False)["input_ids"]
    return with_special[:1] == [bos] and without[:1] != [bos]


def encode_prompts(tokenizer, texts: list[str]) -> list[list[int]]:
    prefix = [tokenizer.bos_token_id] if adds_bos(tokenizer) else []
    return [prefix + (tokenizer(text, add_special_tokens=False)["input_ids"] if text else []) for text in texts]


def encode_prompt(tokenizer, text: str) -> list[int]:
    return encode_prompts(tokenizer, [text])[0]


def encode_completion(tokenizer, text: str) -> list[int]:
    return tokenizer(text, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
