#!/usr/bin/python3
"""PyTorch side of `bond bench train`: exports the benchmark model to ONNX and times PyTorch
eager training steps of the same model, batch and thread count.

    /usr/bin/python3 bench/torch_train_bench.py --onnx OUT.onnx --batch 8 --seq 128 \
        --threads 2 --steps 10 --warmup 3 [--vocab 512 --width 256 --heads 8 --layers 4]

Prints one JSON object: parameters, step times (seconds), tokens/s, peak RSS (MiB). The step is
forward, the weighted sequence log-likelihood loss, backward, global-norm clipping and AdamW, the
same work jbond's learner does per step. Needs Debian's python3-torch; not used by the tests.

Threads: torch.set_num_threads(--threads) sizes torch's OpenMP pool, but Debian's torch calls
OpenBLAS (libopenblas0-pthread), which keeps its own pool of one thread per core. Before torch is
imported the script sets, unless already set, OPENBLAS_NUM_THREADS=--threads and
OMP_WAIT_POLICY=PASSIVE: by default idle OpenMP threads spin and starve OpenBLAS's threads, which
on 2 cores made a training step about 2x slower (see bench/torch_generate_bench.py).
"""

import argparse
import json
import os
import resource
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--onnx", required=True)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--vocab", type=int, default=512)
    ap.add_argument("--width", type=int, default=256)
    ap.add_argument("--heads", type=int, default=8)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    os.environ.setdefault("OPENBLAS_NUM_THREADS", str(a.threads))
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import torch  # noqa: E402, after the thread settings above
    import torch.nn.functional as F  # noqa: E402

    import torch_gpt  # noqa: E402

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    config = torch_gpt.Config(a.vocab, a.width, a.heads, a.layers, max(a.seq, 16))
    model = torch_gpt.Gpt(config)
    torch_gpt.export(model, a.onnx)

    ids = torch.randint(0, a.vocab, (a.batch, a.seq))
    attention = torch.ones(a.batch, a.seq, dtype=torch.long)
    targets = torch.roll(ids, -1, dims=1)
    mask = torch.ones(a.batch, a.seq)
    mask[:, -1] = 0
    weights = torch.full((a.batch,), -1.0 / a.batch)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)
    model.train()
    times = []
    for step in range(a.warmup + a.steps):
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        logp = F.log_softmax(model(ids, attention), dim=-1)
        token = logp.gather(-1, targets.unsqueeze(-1)).squeeze(-1) * mask
        loss = (token.sum(dim=1) * weights).sum()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if step >= a.warmup:
            times.append(time.perf_counter() - start)
    params = sum(p.numel() for p in model.parameters())
    median = sorted(times)[len(times) // 2]
    print(
        json.dumps(
            {
                "engine": "pytorch-eager",
                "torch": torch.__version__,
                "threads": a.threads,
                "parameters": params,
                "batch": a.batch,
                "seq": a.seq,
                "step_seconds": times,
                "median_step_seconds": median,
                "tokens_per_second": a.batch * a.seq / median,
                "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
            }
        )
    )


if __name__ == "__main__":
    main()
