"""Train an MLP on scikit-learn's handwritten digits with one compiled kernel per training step.

The data set ships inside scikit-learn (no download). Training starts at once: the
first steps run on symgrad's interpreter while the step's kernel compiles in the
background (the progress bar says which one runs). Prints steps per second and the
test accuracy, and saves the loss curve to examples/digits_loss.png.

Run: python examples/train_digits.py
"""

from __future__ import annotations

import time
from pathlib import Path

import matplotlib
import numpy as np
from sklearn.datasets import load_digits
from tqdm import tqdm

import symgrad as sg

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def load(seed: int = 0):
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    y = digits.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(x))
    split = int(0.8 * len(x))
    train, test = order[:split], order[split:]
    return x[train], y[train], x[test], y[test]


def main(epochs: int = 30, batch: int = 64, plot: Path | None = None) -> float:
    sg.manual_seed(0)
    x_train, y_train, x_test, y_test = load()
    model = sg.nn.Sequential(
        sg.nn.Linear(64, 128),
        sg.nn.ReLU(),
        sg.nn.Linear(128, 10),
    ).float()
    criterion = sg.nn.CrossEntropyLoss()
    optimizer = sg.optim.Adam(model.parameters(), lr=3e-3)
    scheduler = sg.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)

    @sg.compile
    def train_step(inputs, labels):
        optimizer.zero_grad()
        outputs = model(inputs)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()
        return loss

    steps_per_epoch = -(-len(x_train) // batch)  # the last batch is smaller: same kernel
    losses, seconds = [], 0.0
    rng = np.random.default_rng(1)
    first_seconds, on_kernel_after = 0.0, None
    began = time.perf_counter()
    bar = tqdm(range(epochs), desc="training", unit="epoch")
    for _ in bar:
        order = rng.permutation(len(x_train))
        for k in range(steps_per_epoch):
            idx = order[k * batch : (k + 1) * batch]
            start = time.perf_counter()
            loss = train_step(x_train[idx], y_train[idx])
            elapsed = time.perf_counter() - start
            if losses:
                seconds += elapsed
            else:
                first_seconds = elapsed  # the first call traces the step
            if on_kernel_after is None and train_step.status() == "kernel":
                on_kernel_after = time.perf_counter() - began
            losses.append(loss.item())
        scheduler.step()
        bar.set_postfix(loss=f"{np.mean(losses[-steps_per_epoch:]):.4f}", step=train_step.status())

    model.eval()
    predict = sg.compile(model)
    accuracy = float((predict(x_test).numpy().argmax(axis=1) == y_test).mean())
    steps = epochs * steps_per_epoch
    print(f"test accuracy: {accuracy:.2%}")
    switch = "never" if on_kernel_after is None else f"after {on_kernel_after:.1f} s"
    print(
        f"training: {steps} steps, {(steps - 1) / seconds:,.0f} steps/s "
        f"(first step {first_seconds:.2f} s; on the compiled kernel {switch})"
    )
    if plot is not None:
        plt.figure(figsize=(6, 3.5))
        plt.plot(losses, lw=0.8)
        plt.yscale("log")
        plt.xlabel("step")
        plt.ylabel("cross-entropy loss")
        plt.title("MLP on scikit-learn digits (symgrad, compiled step)")
        plt.tight_layout()
        plt.savefig(plot, dpi=120)
        print(f"loss curve: {plot}")
    return accuracy


if __name__ == "__main__":
    main(plot=Path(__file__).with_name("digits_loss.png"))
