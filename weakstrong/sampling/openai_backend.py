"""Models behind an OpenAI-compatible completions API (e.g. Gemini's compatibility endpoint)."""

from __future__ import annotations

import os

from tqdm import tqdm

from weakstrong.sampling import SamplingParams


def generate(model: str, prompts: list[str], params: SamplingParams, *, api: dict,
             progress: bool = True) -> list[list[dict]]:
    from openai import OpenAI

    key_env = api.get("api_key_env", "OPENAI_API_KEY")
    if not os.environ.get(key_env):
        raise RuntimeError(f"model {model!r} is served by an API: set the environment variable {key_env} "
                           f"(config key 'openai_api.api_key_env')")
    client = OpenAI(base_url=api.get("base_url"), api_key=os.environ[key_env])
    results = []
    for prompt in tqdm(prompts, desc=f"{model} requests", disable=not progress):
        response = client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": prompt}], n=params.n,
            temperature=params.temperature, top_p=params.top_p, max_tokens=params.max_tokens,
            stop=list(params.stop) or None, seed=params.seed)
        usage = response.usage
        results.append([{"text": choice.message.content or "",
                         "completion_tokens": (usage.completion_tokens // max(1, params.n)) if usage else 0,
                         "prompt_tokens": usage.prompt_tokens if usage else 0,
                         "finish_reason": "length" if choice.finish_reason == "length" else "stop"}
                        for choice in response.choices])
    return results
