"""Models behind an OpenAI-compatible API: chat prompts (message lists, e.g. Gemini's compatibility endpoint)
go to chat completions, text prompts (a base model behind `vllm serve`) to completions."""

from __future__ import annotations

import os

from tqdm import tqdm

from weakstrong.sampling import SamplingParams


def generate(model: str, prompts: list, params: SamplingParams, *, api: dict,
             progress: bool = True) -> list[list[dict]]:
    from openai import OpenAI

    key_env = api.get("api_key_env", "OPENAI_API_KEY")
    if not os.environ.get(key_env):
        raise RuntimeError(f"model {model!r} is served by an API: set the environment variable {key_env} "
                           f"(config key 'openai_api.api_key_env')")
    client = OpenAI(base_url=api.get("base_url"), api_key=os.environ[key_env])
    results = []
    for prompt in tqdm(prompts, desc=f"{model} requests", disable=not progress):
        common = {"model": model, "n": params.n, "temperature": params.temperature, "top_p": params.top_p,
                  "max_tokens": params.max_tokens, "stop": list(params.stop) or None, "seed": params.seed}
        if isinstance(prompt, str):
            response = client.completions.create(prompt=prompt, **common)
            texts = [choice.text or "" for choice in response.choices]
        else:
            response = client.chat.completions.create(messages=prompt, **common)
            texts = [choice.message.content or "" for choice in response.choices]
        usage = response.usage
        results.append([{"text": text,
                         "completion_tokens": (usage.completion_tokens // max(1, params.n)) if usage else 0,
                         "prompt_tokens": usage.prompt_tokens if usage else 0,
                         "finish_reason": "length" if choice.finish_reason == "length" else "stop"}
                        for text, choice in zip(texts, response.choices)])
    return results
