"""Typed training requests for tests that only score checkpoints (no training: the training fields are
placeholders)."""
from weakstrong.requests import FinetuneRequest
from weakstrong.training import TrainSettings


def scoring_request(output, validation, *, validation_problems: int, eval_backend: str, style: str,
                    max_tokens: int, seed: int = 0) -> FinetuneRequest:
    return FinetuneRequest(output=str(output), base_model="(not trained here)", sft_data="(not trained here)",
                           validation=str(validation), style=style, validation_problems=validation_problems,
                           max_tokens=max_tokens, eval_backend=eval_backend,
                           settings=TrainSettings(lr=1e-3, steps=1, batch_size=1, checkpoints=1, seed=seed,
                                                         max_length=max_tokens))
