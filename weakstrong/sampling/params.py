"""How completions are drawn (``SamplingParams``) and how a stop string ends one: what every backend of
``weakstrong.sampling`` shares, below them all."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class SamplingParams:
    """How completions are drawn.  The defaults are the backends' neutral ones (the model's own distribution,
    unscaled and untruncated); the study's values come from the config (``sampling:``, ``evaluation:``)."""
    n: int = 1
    temperature: float = 1.0
    top_k: int = -1
    top_p: float = 1.0
    max_tokens: int = 512
    seed: int = 0
    stop: tuple[str, ...] = field(default_factory=tuple)

    def record(self) -> dict:
        """What every sample carries about how it was drawn."""
        return {k: v for k, v in asdict(self).items() if k not in ("n", "stop")}


def truncate_at_stop(text: str, stop: tuple[str, ...]) -> tuple[str, bool]:
    """Cut ``text`` at the first stop string; returns (text, whether a stop string was found)."""
    cuts = [text.find(s) for s in stop if s and s in text]
    if not cuts:
        return text, False
    return text[:min(cuts)], True
