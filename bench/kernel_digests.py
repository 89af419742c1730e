"""Digests of the CPU kernels a toy job runs, on the same random tensors: run it on two machines (or under an
emulated processor) with the same environment and compare the lines, to find which kernel family differs.

    ATEN_CPU_CAPABILITY=avx2 MKL_CBWR=COMPATIBLE ONEDNN_MAX_CPU_ISA=AVX2 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 \\
        .venv/bin/python bench/kernel_digests.py
    # the same under another processor, emulated (Debian's qemu-user):
    ... qemu-x86_64 -cpu Haswell-v4 .venv/bin/python bench/kernel_digests.py

`python -m weakstrong.numerics` gives the digest of a whole pre-training and sampling instead.
"""

from __future__ import annotations

import hashlib
import json


def digests() -> dict[str, str]:
    import torch
    import torch.nn.functional as F

    torch.manual_seed(0)
    a, b, bias = torch.randn(64, 96), torch.randn(96, 288), torch.randn(288)
    x = torch.randn(16, 128, 96)

    def digest(tensor) -> str:
        return hashlib.sha256(tensor.detach().contiguous().numpy().tobytes()).hexdigest()[:10]

    kernels = {
        "addmm": lambda: torch.addmm(bias, a, b),
        "small matmul": lambda: a[:8, :32] @ b[:32, :8],
        "batched matmul": lambda: torch.bmm(x, x.transpose(1, 2)),
        "softmax": lambda: torch.softmax(x, -1),
        "log_softmax": lambda: torch.log_softmax(x, -1),
        "exp": lambda: torch.exp(x),
        "silu": lambda: F.silu(x),
        "rsqrt": lambda: torch.rsqrt(x.abs() + 1),
        "sqrt": lambda: torch.sqrt(x.abs()),
        "division": lambda: x / (x.abs() + 1),
        "sum": lambda: x.sum(-1),
        "mean of squares": lambda: x.pow(2).mean(-1, keepdim=True),
        "sin + cos": lambda: torch.sin(x) + torch.cos(x),
        "causal attention": lambda: F.scaled_dot_product_attention(x[:, None], x[:, None], x[:, None], is_causal=True),
    }
    return {"kernels": torch.backends.cpu.get_cpu_capability().lower(),
            **{name: digest(kernel()) for name, kernel in kernels.items()}}


if __name__ == "__main__":
    print(json.dumps(digests(), indent=2))
