"""A GPT-2-style decoder in PyTorch, parameterised, for jbond's benchmarks.

The same architecture as onnx-training's test fixture (make_torch_fixtures.py): learned position
embeddings, pre-LayerNorm blocks, causal self-attention with a mask buffer, tanh-approximate GELU,
an LM head tied to the token embedding; inputs input_ids and attention_mask, output logits.
DecodeGpt runs the same model as a KV-cache decode graph (past key/values in, present out) for
the generation benchmark.
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
        causal = self.bias[:, :, :steps, :steps]
        scores = scores.masked_fill(causal == 0, float("-inf"))
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


class DecodeGpt(nn.Module):
    """A Gpt run as a KV-cache decode graph: one call feeds `new` tokens per row and the past keys
    and values of every layer, and returns the logits and the grown cache.

    forward(input_ids [B, new], attention_mask [B, past + new], position_ids [B, new],
            past.0.key, past.0.value, past.1.key, ... [B, heads, past, head]) ->
            (logits [B, new, V], present.0.key, present.0.value, ... [B, heads, past + new, head])

    Query i of a call sits at cache slot past + i and attends to slots j <= past + i; masked keys
    (attention_mask 0) get an additive -10000 like Gpt.forward. Positions come from position_ids,
    so rows may be left-padded. Nothing depends on a traced past length (it is read with Shape),
    so past 0 (empty tensors) works for the prefill. The same computation as
    onnx-training/src/test/resources/fixtures/make_torch_decode_fixture.py's wrapper.
    """

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, position_ids, *past):
        m = self.model
        c = m.c
        head = c.width // c.heads
        batch, steps = input_ids.size()
        past_len = past[0].size(2)
        x = m.wte(input_ids) + m.wpe(position_ids)
        key_bias = (1.0 - attention_mask.to(x.dtype))[:, None, None, :] * -10000.0
        query_pos = torch.arange(0, steps, dtype=torch.long)[:, None] + past_len
        key_pos = torch.arange(0, past_len + steps, dtype=torch.long)[None, :]
        future = (key_pos > query_pos)[None, None, :, :]
        presents = []
        for i, block in enumerate(m.h):
            attn = block.attn
            h = block.ln_1(x)
            q, k, v = attn.c_attn(h).split(c.width, dim=2)
            q = q.view(batch, steps, c.heads, head).transpose(1, 2)
            k = k.view(batch, steps, c.heads, head).transpose(1, 2)
            v = v.view(batch, steps, c.heads, head).transpose(1, 2)
            k = torch.cat([past[2 * i], k], dim=2)
            v = torch.cat([past[2 * i + 1], v], dim=2)
            presents += [k, v]
            scores = (q @ k.transpose(-2, -1)) / math.sqrt(head)
            scores = scores.masked_fill(future, float("-inf"))
            scores = scores + key_bias
            weights = F.softmax(scores, dim=-1)
            y = (weights @ v).transpose(1, 2).contiguous().view(batch, steps, c.width)
            x = x + attn.c_proj(y)
            x = x + block.c_proj(F.gelu(block.c_fc(block.ln_2(x)), approximate="tanh"))
        return (m.lm_head(m.ln_f(x)), *presents)

    def empty_past(self, batch):
        c = self.model.c
        return [torch.zeros(batch, c.heads, 0, c.width // c.heads) for _ in range(2 * c.layers)]

    @torch.no_grad()
    def generate(self, prompt_ids, new_tokens, generator):
        """Samples new_tokens per row (temperature 1, torch.multinomial) with the key/value cache,
        one call per token like jbond's KvCacheSampler: a prefill over the prompts with an empty
        past, then one call per sampled token; returns the ids [B, new_tokens]."""
        batch, steps = prompt_ids.size()
        ids = prompt_ids
        mask = torch.ones(batch, steps, dtype=torch.long)
        positions = torch.arange(0, steps, dtype=torch.long).repeat(batch, 1)
        past = self.empty_past(batch)
        out = []
        for t in range(new_tokens):
            if t > 0:
                ids = out[-1]
                mask = torch.cat([mask, torch.ones(batch, 1, dtype=torch.long)], dim=1)
                positions = positions[:, -1:] + 1
            result = self(ids, mask, positions, *past)
            logits, past = result[0], result[1:]
            probs = F.softmax(logits[:, -1, :], dim=-1)
            out.append(torch.multinomial(probs, 1, generator=generator))
        return torch.cat(out, dim=1)


def decode_names(layers):
    """The Hugging Face-like cache names that jbond's DecodeGraphSpec reads."""
    past, present = [], []
    for i in range(layers):
        past += ["past_key_values.%d.key" % i, "past_key_values.%d.value" % i]
        present += ["present.%d.key" % i, "present.%d.value" % i]
    return past, present


def export_decode(decoder, path, opset=17):
    """Exports a DecodeGpt (eval mode, no constant folding) with dynamic batch, new and past
    lengths, traced at batch 2, 2 new tokens, past 3."""
    c = decoder.model.c
    head = c.width // c.heads
    batch, steps, past_len = 2, 2, 3
    ids = torch.zeros(batch, steps, dtype=torch.long)
    mask = torch.ones(batch, past_len + steps, dtype=torch.long)
    positions = torch.arange(past_len, past_len + steps).repeat(batch, 1)
    past = [torch.zeros(batch, c.heads, past_len, head) for _ in range(2 * c.layers)]
    past_names, present_names = decode_names(c.layers)
    dynamic = {
        "input_ids": {0: "batch", 1: "new"},
        "position_ids": {0: "batch", 1: "new"},
        "attention_mask": {0: "batch", 1: "total"},
        "logits": {0: "batch", 1: "new"},
    }
    for n in past_names:
        dynamic[n] = {0: "batch", 2: "past"}
    for n in present_names:
        dynamic[n] = {0: "batch", 2: "total"}
    torch.onnx.export(
        decoder,
        (ids, mask, positions, *past),
        path,
        input_names=["input_ids", "attention_mask", "position_ids"] + past_names,
        output_names=["logits"] + present_names,
        dynamic_axes=dynamic,
        opset_version=opset,
        training=torch.onnx.TrainingMode.EVAL,
        do_constant_folding=False,
    )


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
