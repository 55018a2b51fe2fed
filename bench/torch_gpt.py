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
    def __init__(self, vocab=512, width=256, heads=8, layers=4, context=128):
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

    def forward(self, x, key_bias):
        batch, steps, width = x.size()
        head = width // self.c.heads
        q, k, v = self.c_attn(x).split(width, dim=2)
        q = q.view(batch, steps, self.c.heads, head).transpose(1, 2)
        k = k.view(batch, steps, self.c.heads, head).transpose(1, 2)
        v = v.view(batch, steps, self.c.heads, head).transpose(1, 2)
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(head)
        scores = scores.masked_fill(self.bias[:, :, :steps, :steps] == 0, float("-inf"))
        scores = scores + key_bias
        weights = F.softmax(scores, dim=-1)
        y = (weights @ v).transpose(1, 2).contiguous().view(batch, steps, width)
        return self.c_proj(y)


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.ln_1 = nn.LayerNorm(c.width)
        self.attn = CausalSelfAttention(c)
        self.ln_2 = nn.LayerNorm(c.width)
        self.c_fc = nn.Linear(c.width, 4 * c.width)
        self.c_proj = nn.Linear(4 * c.width, c.width)

    def forward(self, x, key_bias):
        x = x + self.attn(self.ln_1(x), key_bias)
        return x + self.c_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


class Gpt(nn.Module):
    def __init__(self, c):
        super().__init__()
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
