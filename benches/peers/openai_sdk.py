"""The OpenAI Python SDK as a peer for benches/memory.rs: STREAMS concurrent streamed
chat completions from BASE_URL, each answer's text kept whole (as Prism keeps it), the
total characters printed at the end.

    python openai_sdk.py BASE_URL MODEL STREAMS
"""

import asyncio
import sys

from openai import AsyncOpenAI


async def one(client: AsyncOpenAI, model: str) -> str:
    stream = await client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": "benchmark"}],
        max_tokens=4096,
        stream=True,
    )
    parts = []
    async for chunk in stream:
        for choice in chunk.choices:
            if choice.delta.content:
                parts.append(choice.delta.content)
    return "".join(parts)


async def main() -> None:
    base_url, model, streams = sys.argv[1], sys.argv[2], int(sys.argv[3])
    client = AsyncOpenAI(base_url=base_url, api_key="sk-bench-not-a-key", max_retries=0)
    texts = await asyncio.gather(*(one(client, model) for _ in range(streams)))
    print(sum(len(t) for t in texts))


asyncio.run(main())
