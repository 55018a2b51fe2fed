#!/usr/bin/python3
"""PyTorch side of `bond bench generate`: builds a GPT-2-style decoder of the benchmark sizes
(torch_gpt.Gpt, seed 1), exports it to ONNX as a KV-cache decode graph with past key/values
under Hugging Face-like names (torch_gpt.DecodeGpt: past_key_values.{i}.key/.value in,
present.{i}.key/.value out, the contract jbond's DecodeGraphSpec reads), and times PyTorch eager
generating with that very module: a KV cache, one call per token, torch.multinomial at
temperature 1, no EOS. jbond then times KvCacheSampler.forDecodeGraph on the exported file.

    /usr/bin/python3 bench/torch_generate_bench.py --export runs/torch-decode.onnx \
        --batches 1,32 --prompt 8 --new 64 --threads 2 \
        [--vocab 259 --width 256 --heads 4 --layers 4 --context 128 --runs 3 --check-prompt 5,9,..]

Prints one JSON object (last line): per batch the timed runs' seconds and tokens/s of the median
run, and with --check-prompt the log-softmax of the next-token logits after that prompt (for
jbond to compare with ONNX Runtime's). Every random source is seeded (torch.manual_seed(1) for the
weights and prompts, a torch.Generator seeded 2 for the draws). Needs Debian's python3-torch;
not used by the build or the tests.

Threads: torch.set_num_threads(--threads) sizes torch's OpenMP pool, but Debian's torch calls
OpenBLAS (libopenblas0-pthread), which keeps its own pool of one thread per core. Before torch is
imported the script therefore sets, unless already set, OPENBLAS_NUM_THREADS=--threads (so that
--threads 1 is one thread) and OMP_WAIT_POLICY=PASSIVE: by default idle OpenMP threads spin and
starve OpenBLAS's threads, which on 2 cores made batch-32 generation with 2 threads about 4x
slower (and wildly variable) against PASSIVE.
"""

import argparse
import json
import os
import time


def ints(text):
    return [int(v) for v in text.split(",") if v]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--export", required=True, help="where to write the decode graph (.onnx)")
    ap.add_argument("--batches", type=ints, default=[1, 32])
    ap.add_argument("--prompt", type=int, default=8)
    ap.add_argument("--new", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--vocab", type=int, default=259)
    ap.add_argument("--width", type=int, default=256)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--context", type=int, default=128)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--check-prompt", type=ints, default=[])
    a = ap.parse_args()
    os.environ.setdefault("OPENBLAS_NUM_THREADS", str(a.threads))
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import torch  # noqa: E402, after the thread settings above
    import torch.nn.functional as F  # noqa: E402

    import torch_gpt  # noqa: E402

    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    model = torch_gpt.Gpt(torch_gpt.Config(a.vocab, a.width, a.heads, a.layers, a.context))
    model.eval()
    decoder = torch_gpt.DecodeGpt(model)
    decoder.eval()
    torch_gpt.export_decode(decoder, a.export)

    rows = []
    for batch in a.batches:
        prompt = torch.randint(0, a.vocab, (batch, a.prompt))
        generator = torch.Generator().manual_seed(2)
        decoder.generate(prompt, a.new, generator)  # warm-up, a whole run like jbond's
        times = []
        for _ in range(a.runs):
            start = time.perf_counter()
            decoder.generate(prompt, a.new, generator)
            times.append(time.perf_counter() - start)
        median = sorted(times)[len(times) // 2]
        rows.append(
            {"batch": batch, "seconds": times, "tokens_per_second": batch * a.new / median}
        )

    result = {
        "engine": "pytorch-eager-kv-cache",
        "torch": torch.__version__,
        "threads": a.threads,
        "openblas_num_threads": os.environ["OPENBLAS_NUM_THREADS"],
        "omp_wait_policy": os.environ["OMP_WAIT_POLICY"],
        "parameters": sum(p.numel() for p in model.parameters()),
        "new_tokens": a.new,
        "export": a.export,
        "rows": rows,
    }
    if a.check_prompt:
        with torch.no_grad():
            ids = torch.tensor([a.check_prompt], dtype=torch.long)
            steps = ids.size(1)
            logits = decoder(
                ids,
                torch.ones(1, steps, dtype=torch.long),
                torch.arange(0, steps, dtype=torch.long).unsqueeze(0),
                *decoder.empty_past(1),
            )[0]
            result["check_log_probs"] = F.log_softmax(logits[0, -1], dim=-1).tolist()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
