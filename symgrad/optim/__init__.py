"""Optimizers and learning-rate schedules (``sg.optim``), with PyTorch's algorithms."""

from symgrad.optim import lr_scheduler
from symgrad.optim.adam import Adam, AdamW
from symgrad.optim.optimizer import Optimizer
from symgrad.optim.rmsprop import RMSprop
from symgrad.optim.sgd import SGD

__all__ = ["SGD", "Adam", "AdamW", "Optimizer", "RMSprop", "lr_scheduler"]
