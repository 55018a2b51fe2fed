#!/usr/bin/python3
"""PyTorch side of `bond bench generate`: generated tokens/s of PyTorch eager sampling with a
key/value cache, for the same architecture sizes, batch, prompt length, new tokens and threads.

    /usr/bin/python3 bench/torch_generate_bench.py --batch 32 --prompt 8 --new 64 --threads 2 \
        [--vocab 259 --width 256 --heads 4 --layers 4 --context 128 --runs 3]

Prints one JSON object. Needs Debian's python3-torch; not used by the tests.
"""

import argparse
import json
import time

import torch

import torch_gpt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--prompt", type=int, default=8)
    ap.add_argument("--new", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--vocab", type=int, default=259)
    ap.add_argument("--width", type=int, default=256)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--context", type=int, default=128)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    model = torch_gpt.Gpt(
        torch_gpt.Config(a.vocab, a.width, a.heads, a.layers, a.context, cache=True)
    )
    model.eval()
    prompt = torch.randint(0, a.vocab, (a.batch, a.prompt))
    generator = torch.Generator().manual_seed(2)
    model.generate(prompt, 4, generator)  # warm-up
    times = []
    for _ in range(a.runs):
        start = time.perf_counter()
        model.generate(prompt, a.new, generator)
        times.append(time.perf_counter() - start)
    median = sorted(times)[len(times) // 2]
    print(
        json.dumps(
            {
                "engine": "pytorch-eager-kv-cache",
                "threads": a.threads,
                "parameters": sum(p.numel() for p in model.parameters()),
                "batch": a.batch,
                "new_tokens": a.new,
                "seconds": times,
                "tokens_per_second": a.batch * a.new / median,
            }
        )
    )


if __name__ == "__main__":
    main()
