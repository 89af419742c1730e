"""The multi-process halves of the GPU-path tests, run under ``torchrun --nproc_per_node 2`` on CPU (gloo).

``python -m torch.distributed.run ... student_loading_worker.py load MODEL_DIR OUT``: every rank loads the
student through ``weakstrong.training.load_student`` with the Hugging Face loader wrapped to record each
call, wraps the model (DDP on CPU), trains one step, and writes what it read and its parameters.

``... student_loading_worker.py fsdp-buffers POLICY OUT``: torch's FSDP (FSDP1, as the workflow's
accelerate/fsdp.yaml uses) wraps a small Llama with the mixed-precision policy POLICY ("workflow":
``fsdp_mixed_precision("bf16")``; "accelerate": Accelerate's own bf16 policy) and runs a forward pass; each
rank writes its buffers' dtypes.  Accelerate's FSDP plugin refuses a machine without a GPU, and FSDP's
``sync_module_states`` needs GPU tensors, so this half calls torch's FSDP directly, without module-state sync.
"""
import functools
import json
import sys
from pathlib import Path

import torch
import torch.distributed as dist


def load(model_dir: str, out: Path) -> None:
    from transformers import AutoModelForCausalLM

    from weakstrong.training import load_student, make_accelerator

    reads = []
    original = AutoModelForCausalLM.from_pretrained.__func__

    def recording(cls, *args, **kwargs):
        reads.append(str(args[0]))
        return original(cls, *args, **kwargs)

    AutoModelForCausalLM.from_pretrained = classmethod(recording)
    accelerator = make_accelerator("fp32")
    model, tokenizer = load_student(model_dir, accelerator)
    wrapped = accelerator.prepare(model)
    inputs = torch.tensor([tokenizer("the answer is 42").input_ids])
    wrapped(input_ids=inputs, labels=inputs).loss.backward()
    rank = accelerator.process_index
    inner = accelerator.unwrap_model(wrapped)
    record = {"reads": reads, "tied": inner.lm_head.weight is inner.model.embed_tokens.weight,
              "grad_norm": float(torch.norm(torch.stack([p.grad.norm() for p in inner.parameters()
                                                          if p.grad is not None])))}
    torch.save({k: v.detach().clone() for k, v in inner.state_dict().items()}, out / f"state-{rank}.pt")
    (out / f"rank-{rank}.json").write_text(json.dumps(record))


def fsdp_buffers(policy_name: str, out: Path) -> None:
    from accelerate.utils.dataclasses import FullyShardedDataParallelPlugin
    from torch.distributed.fsdp import FullyShardedDataParallel, MixedPrecision
    from torch.distributed.fsdp.wrap import transformer_auto_wrap_policy
    from transformers import LlamaConfig, LlamaForCausalLM
    from transformers.models.llama.modeling_llama import LlamaDecoderLayer

    from weakstrong.training import fsdp_mixed_precision

    dist.init_process_group("gloo")
    if policy_name == "workflow":
        policy = fsdp_mixed_precision("bf16")
    else:  # what Accelerate's plugin builds for --mixed_precision bf16 when given no policy
        plugin = FullyShardedDataParallelPlugin.__new__(FullyShardedDataParallelPlugin)
        plugin.fsdp_version, plugin.mixed_precision_policy = 1, None
        plugin.set_mixed_precision("bf16")
        policy = plugin.mixed_precision_policy
    assert isinstance(policy, MixedPrecision)
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=64, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                         num_key_value_heads=4, intermediate_size=64, tie_word_embeddings=True)
    model = FullyShardedDataParallel(
        LlamaForCausalLM(config), mixed_precision=policy, device_id=torch.device("cpu"), use_orig_params=True,
        auto_wrap_policy=functools.partial(transformer_auto_wrap_policy, transformer_layer_cls={LlamaDecoderLayer}))
    inputs = torch.randint(0, 64, (2, 8))
    model(input_ids=inputs, labels=inputs).loss.backward()
    buffers = {name.replace("_fsdp_wrapped_module.", ""): str(buffer.dtype) for name, buffer in model.named_buffers()}
    (out / f"rank-{dist.get_rank()}.json").write_text(json.dumps(buffers))
    dist.destroy_process_group()


if __name__ == "__main__":
    torch.set_num_threads(1)
    mode, argument, out = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    {"load": load, "fsdp-buffers": fsdp_buffers}[mode](argument, out)
