"""Train a small convolutional network on scikit-learn's 8x8 digits, with a compiled training step.

Conv2d → ReLU → MaxPool2d → Conv2d → ReLU → Flatten → Linear, written as in PyTorch,
fed by a DataLoader over a TensorDataset of (N, 1, 8, 8) images. The data set ships
inside scikit-learn (no download). The steps run on symgrad's interpreter while the
step's kernel compiles in the background (the progress bar says which one runs; the
compile takes minutes on two cores and stops when the program ends).
Prints the test accuracy and saves the loss curve to examples/digits_cnn_loss.png.

Run: python examples/digits_cnn.py              (15 epochs, well under a minute on two cores)
     python examples/digits_cnn.py --epochs 5   (a shorter run)
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import matplotlib
import numpy as np
from sklearn.datasets import load_digits
from tqdm import tqdm

import symgrad as sg
import symgrad.nn as nn
from symgrad.utils.data import DataLoader, TensorDataset

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def load(seed: int = 0):
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)  # (N, channels, H, W)
    y = digits.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(x))
    split = int(0.8 * len(x))
    train, test = order[:split], order[split:]
    return x[train], y[train], x[test], y[test]


def main(epochs: int = 15, batch: int = 32, plot: Path | None = None) -> float:
    sg.manual_seed(0)
    x_train, y_train, x_test, y_test = load()
    train = TensorDataset(sg.tensor(x_train), sg.tensor(y_train))
    loader = DataLoader(train, batch_size=batch, shuffle=True)
    model = nn.Sequential(
        nn.Conv2d(1, 16, kernel_size=3, padding=1),  # (N, 16, 8, 8)
        nn.ReLU(),
        nn.MaxPool2d(2),  # (N, 16, 4, 4)
        nn.Conv2d(16, 32, kernel_size=3, padding=1),  # (N, 32, 4, 4)
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(32 * 4 * 4, 10),
    ).float()
    criterion = nn.CrossEntropyLoss()
    optimizer = sg.optim.Adam(model.parameters(), lr=3e-3)
    scheduler = sg.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)

    @sg.compile
    def train_step(inputs, labels):
        optimizer.zero_grad()
        loss = criterion(model(inputs), labels)
        loss.backward()
        optimizer.step()
        return loss

    losses = []
    began = time.perf_counter()
    bar = tqdm(range(epochs), desc="training", unit="epoch")
    for _ in bar:
        for inputs, labels in loader:  # the last batch is smaller: same kernel
            losses.append(train_step(inputs, labels).item())
        scheduler.step()
        bar.set_postfix(loss=f"{np.mean(losses[-len(loader) :]):.4f}", step=train_step.status())
    seconds = time.perf_counter() - began

    model.eval()
    with sg.no_grad():
        predicted = model(sg.tensor(x_test)).argmax(dim=1)
    accuracy = (predicted == sg.tensor(y_test)).float().mean().item()
    print(f"test accuracy: {accuracy:.2%}")
    print(f"training: {len(losses)} steps in {seconds:.1f} s")
    if plot is not None:
        plt.figure(figsize=(6, 3.5))
        plt.plot(losses, lw=0.8)
        plt.yscale("log")
        plt.xlabel("step")
        plt.ylabel("cross-entropy loss")
        plt.title("CNN on scikit-learn digits (symgrad, compiled step)")
        plt.tight_layout()
        plt.savefig(plot, dpi=120)
        print(f"loss curve: {plot}")
    return accuracy


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=15, help="training epochs")
    main(parser.parse_args().epochs, plot=Path(__file__).with_name("digits_cnn_loss.png"))
