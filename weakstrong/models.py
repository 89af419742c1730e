"""Model sources: Hugging Face ids, local paths, or toy specs built from scratch.

A toy spec is a small Llama configuration (``hidden_size``, ``layers``, ``heads``, ``intermediate_size``)
plus a pre-training recipe; ``build_toy_model`` creates it with a tokenizer trained locally on the toy
corpus and saves both in Hugging Face format, so vLLM and transformers load it like any other checkpoint.
"""

from __future__ import annotations

from pathlib import Path

PAD, EOS = "<pad>", "<eos>"


def train_tokenizer(texts: list[str], vocab_size: int):
    """Byte-level BPE on the toy corpus: every word and small number becomes one token."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[PAD, EOS],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tokenizer.train_from_iterator(texts, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, pad_token=PAD, eos_token=EOS, bos_token=EOS,
                                   clean_up_tokenization_spaces=False)


def llama_config(spec: dict, vocab_size: int, tokenizer):
    from transformers import LlamaConfig

    return LlamaConfig(
        vocab_size=vocab_size, hidden_size=spec["hidden_size"], num_hidden_layers=spec["layers"],
        num_attention_heads=spec["heads"], num_key_value_heads=spec["heads"],
        intermediate_size=spec["intermediate_size"], max_position_embeddings=spec["max_positions"],
        tie_word_embeddings=True, pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
        bos_token_id=tokenizer.eos_token_id, torch_dtype="float32",
    )


def count_toy_parameters(spec: dict, vocab_size: int) -> int:
    """Parameters of a toy spec without building it (tied embeddings, no biases, RMSNorm weights)."""
    d, f, layers = spec["hidden_size"], spec["intermediate_size"], spec["layers"]
    per_layer = 4 * d * d + 3 * d * f + 2 * d
    return vocab_size * d + layers * per_layer + d


def init_toy_model(spec: dict, tokenizer, seed: int):
    import torch
    from transformers import LlamaForCausalLM

    torch.manual_seed(seed)
    model = LlamaForCausalLM(llama_config(spec, len(tokenizer), tokenizer))
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model


def load_model_and_tokenizer(path: str | Path, *, training: bool = False):
    """A causal LM and its tokenizer from a local directory or hub id.

    For training, float32 on CPU whatever the checkpoint's dtype (the master weights; bf16 training autocasts
    around them, since AdamW updates of 1e-7 round away in bf16).  For generation, bf16 on a GPU, float32 on
    CPU.  The dtype is always explicit: transformers would otherwise load a checkpoint's own dtype.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(path))
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    on_gpu = torch.cuda.is_available() and not training
    model = AutoModelForCausalLM.from_pretrained(str(path), dtype=torch.bfloat16 if on_gpu else torch.float32)
    return (model.to("cuda") if on_gpu else model), tokenizer


def release_memory() -> None:
    """Free models that are no longer referenced (reference cycles included) and the GPU memory they held,
    before another model or an inference engine claims it."""
    import gc

    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
