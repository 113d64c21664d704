"""Train a small character-level transformer on the Zen of Python, with a compiled training step.

The model is a nanoGPT-style decoder (token and position embeddings, causal
self-attention, LayerNorm, a GELU MLP, residual connections) written as a PyTorch
program: replace ``symgrad`` by ``torch`` in the three imports and it runs under
PyTorch. The text ships with Python (``import this``). The whole AdamW training step
(zero_grad, forward, loss, backward, step) is one compiled function; it runs on
symgrad's interpreter while its kernel compiles in a background process. That compile
takes minutes on two cores and stops when the program ends, so a run this short stays
on the interpreter. Prints the loss against the unigram baseline (the entropy of the
character frequencies: the best a model that ignores the context can do), a sample
generated from the trained model, and saves the loss curve to
examples/char_transformer_loss.png.

Run: python examples/char_transformer.py             (400 steps, under a minute on two cores)
     python examples/char_transformer.py --steps 150 (a shorter run, used by the tests)
"""

from __future__ import annotations

import os

# The matrices here are small: one BLAS thread is fastest, and leaves the other core to
# the process compiling the training step's kernel (PyTorch's torch.set_num_threads(1)).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import codecs
import contextlib
import io
import math
import time
from pathlib import Path

import matplotlib
import numpy as np
from tqdm import tqdm

import symgrad as sg
from symgrad import nn
from symgrad.nn import functional as F

matplotlib.use("Agg")
import matplotlib.pyplot as plt


class CausalSelfAttention(nn.Module):
    def __init__(self, n_embd: int, n_head: int, block_size: int):
        super().__init__()
        self.n_head = n_head
        self.c_attn = nn.Linear(n_embd, 3 * n_embd)  # query, key and value in one matmul
        self.c_proj = nn.Linear(n_embd, n_embd)
        mask = sg.tril(sg.ones(block_size, block_size))
        self.register_buffer("bias", mask.view(1, 1, block_size, block_size))

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(C, dim=2)
        hs = C // self.n_head
        q = q.view(B, T, self.n_head, hs).transpose(1, 2)  # (B, nh, T, hs)
        k = k.view(B, T, self.n_head, hs).transpose(1, 2)
        v = v.view(B, T, self.n_head, hs).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hs))
        att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
        att = F.softmax(att, dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y)


class Block(nn.Module):
    def __init__(self, n_embd: int, n_head: int, block_size: int):
        super().__init__()
        self.ln_1 = nn.LayerNorm(n_embd)
        self.attn = CausalSelfAttention(n_embd, n_head, block_size)
        self.ln_2 = nn.LayerNorm(n_embd)
        self.mlp = nn.Sequential(
            nn.Linear(n_embd, 4 * n_embd), nn.GELU(), nn.Linear(4 * n_embd, n_embd)
        )

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class CharTransformer(nn.Module):
    def __init__(self, vocab_size: int, block_size=32, n_embd=64, n_head=4, n_layer=2):
        super().__init__()
        self.block_size = block_size
        self.wte = nn.Embedding(vocab_size, n_embd)
        self.wpe = nn.Embedding(block_size, n_embd)
        self.blocks = nn.ModuleList([Block(n_embd, n_head, block_size) for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(n_embd)
        self.lm_head = nn.Linear(n_embd, vocab_size)

    def forward(self, idx, targets=None):
        B, T = idx.size()
        pos = sg.arange(0, T, dtype=sg.long)
        x = self.wte(idx) + self.wpe(pos)
        for block in self.blocks:
            x = block(x)
        logits = self.lm_head(self.ln_f(x))
        if targets is None:
            return logits
        return F.cross_entropy(logits.view(B * T, -1), targets.view(B * T))

    @sg.no_grad()
    def generate(self, idx, max_new_tokens: int):
        for _ in range(max_new_tokens):
            logits = self(idx[:, -self.block_size :])
            probs = F.softmax(logits[:, -1, :], dim=-1)
            idx = sg.cat((idx, sg.multinomial(probs, num_samples=1)), dim=1)
        return idx


def zen_of_python() -> str:
    with contextlib.redirect_stdout(io.StringIO()):  # importing `this` prints the poem
        import this
    return codecs.decode(this.s, "rot13")


def main(steps: int = 400, batch: int = 16, block: int = 32, plot: Path | None = None):
    sg.set_default_dtype(sg.float32)  # PyTorch's default
    sg.manual_seed(0)
    text = zen_of_python()
    chars = sorted(set(text))
    stoi = {ch: i for i, ch in enumerate(chars)}
    data = sg.tensor([stoi[ch] for ch in text], dtype=sg.long)
    freq = np.bincount(data.numpy()) / len(data)
    unigram = float(-(freq * np.log(freq)).sum())
    print(f"{len(text)} characters, {len(chars)} distinct; unigram entropy {unigram:.3f} nats")

    model = CharTransformer(len(chars), block_size=block, n_embd=64, n_head=4, n_layer=2)
    optimizer = sg.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    print(f"{sum(p.numel() for p in model.parameters()):,} parameters")

    @sg.compile
    def train_step(x, y):
        optimizer.zero_grad()
        loss = model(x, y)
        loss.backward()
        optimizer.step()
        return loss

    losses = []
    began = time.perf_counter()
    bar = tqdm(range(steps), desc="training", unit="step")
    for step in bar:
        ix = sg.randint(len(data) - block, (batch,)).tolist()  # random windows of the text
        x = sg.stack([data[i : i + block] for i in ix])
        y = sg.stack([data[i + 1 : i + 1 + block] for i in ix])  # the next characters
        losses.append(train_step(x, y).item())
        if step % 10 == 9:
            bar.set_postfix(loss=f"{np.mean(losses[-10:]):.3f}")
    seconds = time.perf_counter() - began
    final = float(np.mean(losses[-20:]))
    print(f"final loss: {final:.3f} nats (unigram baseline {unigram:.3f})")
    print(f"training: {steps} steps in {seconds:.1f} s")

    model.eval()
    prompt = sg.tensor([[stoi[ch] for ch in "Beautiful is "]], dtype=sg.long)
    sample = model.generate(prompt, max_new_tokens=200)[0].tolist()
    print("sample:\n" + "".join(chars[i] for i in sample))
    if plot is not None:
        plt.figure(figsize=(6, 3.5))
        plt.plot(losses, lw=0.6, label="training loss")
        plt.axhline(unigram, color="gray", ls="--", label="unigram baseline")
        plt.xlabel("step")
        plt.ylabel("cross-entropy loss (nats)")
        plt.title("Character transformer on the Zen of Python (symgrad)")
        plt.legend()
        plt.tight_layout()
        plt.savefig(plot, dpi=120)
        print(f"loss curve: {plot}")
    return final


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=400, help="training steps")
    main(parser.parse_args().steps, plot=Path(__file__).with_name("char_transformer_loss.png"))
