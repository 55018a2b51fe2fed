"""A GPT-2-style decoder in PyTorch, parameterised, for jbond's benchmarks.

The same architecture as onnx-training's test fixture (make_torch_fixtures.py): learned position
embeddings, pre-LayerNorm blocks, causal self-attention with a mask buffer, tanh-approximate GELU,
an LM head tied to the token embedding; inputs input_ids and attention_mask, output logits.
Needs Debian's python3-torch (run with /usr/bin/python3); not used by the build or the tests.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class Config:
    def __init__(self, vocab=512, width=256, heads=8, layers=4, context=128, cache=False):
        self.cache = cache
        self.vocab = vocab
        self.width = width
        self.heads = heads
        self.layers = layers
        self.context = context


class CausalSelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.c_attn = nn.Linear(c.width, 3 * c.width)
        self.c_proj = nn.Linear(c.width, c.width)
        causal = torch.tril(torch.ones(c.context, c.context)).view(1, 1, c.context, c.context)
        self.register_buffer("bias", causal)

    def forward(self, x, key_bias, past=None):
        batch, steps, width = x.size()
        head = width // self.c.heads
        q, k, v = self.c_attn(x).split(width, dim=2)
        q = q.view(batch, steps, self.c.heads, head).transpose(1, 2)
        k = k.view(batch, steps, self.c.heads, head).transpose(1, 2)
        v = v.view(batch, steps, self.c.heads, head).transpose(1, 2)
        offset = 0
        if past is not None:
            offset = past[0].size(2)
            k = torch.cat([past[0], k], dim=2)
            v = torch.cat([past[1], v], dim=2)
        total = offset + steps
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(head)
        causal = self.bias[:, :, offset:total, :total]
        scores = scores.masked_fill(causal == 0, float("-inf"))
        scores = scores + key_bias
        weights = F.softmax(scores, dim=-1)
        y = (weights @ v).transpose(1, 2).contiguous().view(batch, steps, width)
        if past is None and not self.c.cache:
            return self.c_proj(y)
        return self.c_proj(y), (k, v)


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.ln_1 = nn.LayerNorm(c.width)
        self.attn = CausalSelfAttention(c)
        self.ln_2 = nn.LayerNorm(c.width)
        self.c_fc = nn.Linear(c.width, 4 * c.width)
        self.c_proj = nn.Linear(4 * c.width, c.width)

    def forward(self, x, key_bias, past=None):
        if past is None and not self.attn.c.cache:
            x = x + self.attn(self.ln_1(x), key_bias)
            return x + self.c_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))
        a, present = self.attn(self.ln_1(x), key_bias, past)
        x = x + a
        return x + self.c_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh")), present


class Gpt(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.wte = nn.Embedding(c.vocab, c.width)
        self.wpe = nn.Embedding(c.context, c.width)
        self.h = nn.ModuleList([Block(c) for _ in range(c.layers)])
        self.ln_f = nn.LayerNorm(c.width)
        self.lm_head = nn.Linear(c.width, c.vocab, bias=False)
        self.lm_head.weight = self.wte.weight
        with torch.no_grad():
            self.wte.weight.normal_(0, 0.02)
            self.wpe.weight.normal_(0, 0.01)

    def forward(self, input_ids, attention_mask):
        steps = input_ids.size(1)
        positions = torch.arange(0, steps, dtype=torch.long).unsqueeze(0)
        x = self.wte(input_ids) + self.wpe(positions)
        key_bias = (1.0 - attention_mask.to(x.dtype))[:, None, None, :] * -10000.0
        for block in self.h:
            x = block(x, key_bias)
        return self.lm_head(self.ln_f(x))


    @torch.no_grad()
    def generate(self, prompt_ids, new_tokens, generator):
        """Samples new_tokens per row (temperature 1) with a key/value cache; returns the ids."""
        batch, steps = prompt_ids.size()
        mask = torch.ones(batch, steps, dtype=torch.long)
        positions = torch.arange(0, steps, dtype=torch.long).unsqueeze(0)
        x = self.wte(prompt_ids) + self.wpe(positions)
        pasts = [None] * len(self.h)
        out = []
        for t in range(new_tokens):
            key_bias = (1.0 - mask.to(x.dtype))[:, None, None, :] * -10000.0
            for i, block in enumerate(self.h):
                x, pasts[i] = block(x, key_bias, pasts[i])
            logits = self.lm_head(self.ln_f(x[:, -1, :]))
            token = torch.multinomial(F.softmax(logits, dim=-1), 1, generator=generator)
            out.append(token)
            mask = torch.cat([mask, torch.ones(batch, 1, dtype=torch.long)], dim=1)
            position = torch.full((1, 1), steps + t, dtype=torch.long)
            x = self.wte(token) + self.wpe(position)
        return torch.cat(out, dim=1)


def export(model, path, opset=17):
    ids = torch.zeros(2, 5, dtype=torch.long)
    mask = torch.ones(2, 5, dtype=torch.long)
    dynamic = {0: "batch", 1: "sequence"}
    torch.onnx.export(
        model,
        (ids, mask),
        path,
        input_names=["input_ids", "attention_mask"],
        output_names=["logits"],
        dynamic_axes={"input_ids": dynamic, "attention_mask": dynamic, "logits": dynamic},
        opset_version=opset,
        training=torch.onnx.TrainingMode.TRAINING,
        do_constant_folding=False,
    )
