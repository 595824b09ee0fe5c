"""One call per experiment: train a `ConvNet`, save it, reuse it, time it.

Lessons that need lesson 4's trained network (confusion matrices, deeper networks) call
`load_or_train`: it loads the model lesson 4 saved when it was trained with the same settings,
and trains one otherwise, so every lesson also runs on its own. `LESSON4_RECIPE` is how lesson 4
trains that network (its default parameters), in one place that lessons and tests read.

Example:
    >>> settings = lesson4_settings(seed=0)  # {'seed': 0, 'epochs': 10, 'batch_size': 128, 'lr': 0.003, ...}
    >>> model, info = load_or_train("two_conv_net", data, settings)  # doctest: +SKIP
    loaded build/models/two_conv_net_seed0.pt (trained earlier with the same settings)
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from .data import Data
from .datafiles import repo_root
from .models import ConvNet
from .repro import get_device, set_seed, timed
from .training import fit, model_device, to_device, train_epoch

LESSON4_RECIPE = dict(epochs=10, batch_size=128, lr=0.003, schedule="one-cycle")
"""How lesson 4 trains its two-conv network: its default parameters. Lessons 6, 9, 11 and 12 reuse
the network it saves; the training parameters of 6, 11 and 12 default to the same."""


def lesson4_settings(seed: int = 0, train_size: int | None = None, quick: bool = False) -> dict:
    """The settings lesson 4 saves its network with, as `load_or_train` compares them: the recipe for
    ``seed`` and ``train_size`` (1 epoch for a ``quick`` run, as lesson 4's). The schedule is not
    among them: lesson 4 saves only a run with the recipe's, which is `fit`'s default."""
    recipe = LESSON4_RECIPE
    epochs = 1 if quick else recipe["epochs"]
    return dict(
        seed=seed, epochs=epochs, batch_size=recipe["batch_size"], lr=recipe["lr"], train_size=train_size, n_conv=2
    )


def train_model(
    data: Data,
    n_conv: int = 2,
    epochs: int = 10,
    lr: float = 3e-3,
    batch_size: int = 128,
    seed: int = 0,
    device="auto",
    **fit_options,
):
    """Seed, build a `ConvNet`, move it to the device and `fit` it.

    Returns ``(model, history)``; the model holds its best validation epoch's weights.
    """
    set_seed(seed)
    model = ConvNet(n_conv=n_conv).to(device if isinstance(device, torch.device) else get_device(device, verbose=False))
    history = fit(model, data, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed, **fit_options)
    return model, history


def checkpoint_path(name: str, seed: int = 0) -> Path:
    """Where the course keeps a trained model: ``build/models/<name>_seed<seed>.pt`` in the checkout."""
    return repo_root() / "build" / "models" / f"{name}_seed{seed}.pt"


def save_model(model: ConvNet, path, **info) -> None:
    """Save a `ConvNet`'s weights with how it was built and trained (``info``), e.g. its settings."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"n_conv": len(model.features), "state_dict": model.state_dict(), "info": info}, path)


def load_model(path, device="cpu") -> tuple[ConvNet, dict]:
    """Load a model saved by `save_model`; returns ``(model, info)``."""
    checkpoint = torch.load(path, map_location=device, weights_only=True)
    model = ConvNet(n_conv=checkpoint["n_conv"]).to(device)
    model.load_state_dict(checkpoint["state_dict"])
    return model, checkpoint["info"]


def saved_info(name: str, settings: dict) -> dict | None:
    """What was saved with the model ``name`` (e.g. its ``test_accuracy``) if it was trained with exactly
    ``settings``; ``None`` if no such model was saved."""
    path = checkpoint_path(name, settings["seed"])
    if not path.exists():
        return None
    info = torch.load(path, map_location="cpu", weights_only=True)["info"]
    return info if info.get("settings") == settings else None


def load_or_train(name: str, data: Data, settings: dict, device="auto", **fit_options) -> tuple[ConvNet, dict]:
    """The model saved as ``name`` if it was trained with exactly ``settings``; else train one now.

    ``settings`` holds ``seed, epochs, batch_size, lr, n_conv`` and whatever else describes the run
    (``train_size``, ``quick``); ``data`` must match them. Returns ``(model, info)``; ``info`` has
    ``settings`` and, for a saved model, whatever its lesson stored (e.g. ``test_accuracy``).
    """
    device = device if isinstance(device, torch.device) else get_device(device, verbose=False)
    path = checkpoint_path(name, settings["seed"])
    if path.exists():
        model, info = load_model(path, device)
        if info.get("settings") == settings:
            print(f"loaded {path.relative_to(repo_root())} (trained earlier with the same settings)")
            return model, info
        print(f"{path.name} was trained with other settings ({info.get('settings')}); training a new model")
    options = {k: settings[k] for k in ("n_conv", "epochs", "lr", "batch_size", "seed")}
    model, _ = train_model(data, device=device, **options, **fit_options)
    return model, {"settings": settings}


def training_speed(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, steps: int = 20, warmup: int = 2, repeats: int = 3
) -> float:
    """Training images per second: the best of ``repeats`` timings of ``steps`` Adam steps of `train_epoch`.

    The first ``warmup`` steps are not timed (they allocate memory and pick kernels), and the best
    timing is kept because a process's first one can still include start-up work. The model is
    trained in place, so pass a throwaway copy.
    """
    device = model_device(model)
    if device.type == "cpu":
        model.to(memory_format=torch.channels_last)
    batch = (to_device(x, device), y.to(device))
    optimizer = torch.optim.Adam(model.parameters())
    if warmup:
        train_epoch(model, [batch] * warmup, optimizer, nn.functional.cross_entropy)
    best = 0.0
    for _ in range(repeats):
        seconds, _ = timed(lambda: train_epoch(model, [batch] * steps, optimizer, nn.functional.cross_entropy), device)
        best = max(best, steps * len(y) / seconds)  # train_epoch: the loop fit runs
    return best
