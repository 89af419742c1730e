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


#: Files of which a saved tokenizer has at least one (fast: tokenizer.json; sentencepiece: tokenizer.model;
#: byte-level BPE: vocab.json and merges.txt; WordPiece: vocab.txt).
TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "spiece.model", "vocab.json", "vocab.txt",
                   "tokenizer_config.json")


def check_model_dir(path: str | Path) -> bool:
    """True when ``path`` names a local model directory, after checking that it has the files a model and its
    tokenizer load from (so a missing tokenizer is reported by name before any weights are read); False for
    a hub id.  A path that can only be local (absolute, ./ or ../, or nested deeper than owner/name) and does
    not exist is an error here, not a hub lookup."""
    text = str(path)
    local = Path(text).expanduser()
    if not local.exists():
        if text.startswith(("/", "./", "../", "~")) or text.count("/") > 1:
            raise FileNotFoundError(f"model directory {text} does not exist")
        return False  # a hub id such as Qwen/Qwen2.5-0.5B
    if not local.is_dir():
        raise NotADirectoryError(f"model path {text} is a file, not a model directory")
    if not (local / "config.json").is_file():
        raise FileNotFoundError(f"model directory {text} has no config.json: not a saved model")
    if not any((local / name).is_file() for name in TOKENIZER_FILES):
        raise FileNotFoundError(f"model directory {text} has no tokenizer: none of the tokenizer files "
                                f"({', '.join(TOKENIZER_FILES)}) are there; save the tokenizer beside the "
                                f"weights (tokenizer.save_pretrained)")
    return True


def attention_implementation(config) -> str | None:
    """The attention kernel a model is trained and scored with.  Models with attention-logit soft-capping
    (Gemma2's ``attn_logit_softcapping``) get ``eager``: transformers' SDPA path ignores the cap, while vLLM
    applies it, so a student trained under SDPA would be trained as one function and evaluated as another.
    Others get transformers' default (None: SDPA where available)."""
    return "eager" if getattr(config, "attn_logit_softcapping", None) else None


def load_tokenizer(path: str | Path, *, local: bool):
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(str(path))
    except (OSError, ValueError) as error:
        if not local:
            raise
        raise ValueError(f"model directory {path}: its tokenizer files cannot be loaded ({error})") from error
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_model_and_tokenizer(path: str | Path, *, training: bool = False, read_weights: bool = True):
    """A causal LM and its tokenizer from a local directory or hub id.

    For training, float32 on CPU whatever the checkpoint's dtype (the master weights; bf16 training autocasts
    around them, since AdamW updates of 1e-7 round away in bf16).  For generation, bf16 on a GPU, float32 on
    CPU.  The dtype is always explicit: transformers would otherwise load a checkpoint's own dtype.
    ``read_weights=False`` builds the model on the meta device from its config alone (no weight file is
    read): the ranks of a multi-process run other than the first, which receive the first rank's weights
    when the model is prepared (``weakstrong.training.load_student``).
    """
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    local = check_model_dir(path)
    tokenizer = load_tokenizer(path, local=local)
    config = AutoConfig.from_pretrained(str(path))
    attention = attention_implementation(config)
    if not read_weights:
        with torch.device("meta"):
            model = AutoModelForCausalLM.from_config(config, dtype=torch.float32, attn_implementation=attention)
        return model, tokenizer
    on_gpu = torch.cuda.is_available() and not training
    model = AutoModelForCausalLM.from_pretrained(str(path), dtype=torch.bfloat16 if on_gpu else torch.float32,
                                                 attn_implementation=attention)
    return (model.to("cuda") if on_gpu else model), tokenizer


def release_memory() -> None:
    """Free models that are no longer referenced (reference cycles included) and the GPU memory they held,
    before another model or an inference engine claims it."""
    import gc

    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
