"""Reproducibility and hardware: seeding every random generator, choosing a device, timing work on it.

Example:
    >>> set_seed(0)
    >>> device = get_device()          # doctest: +SKIP
    Using device: cpu (no CUDA or MPS GPU found)
"""

from __future__ import annotations

import random
import time

import numpy as np
import torch

from .validate import whole_number


def set_seed(seed: int = 0) -> None:
    """Seed Python, NumPy and PyTorch so that a rerun draws the same random numbers."""
    whole_number(seed, "seed")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def get_device(preference: str = "auto", verbose: bool = True) -> torch.device:
    """Pick CUDA, then Apple's MPS, then the CPU; or honour an explicit ``preference``.

    ``preference`` is "auto", "cpu", "cuda", "cuda:1" or "mps". Asking for a GPU that is not
    there raises an error that says what is available, rather than silently using the CPU.
    """
    if preference == "auto":
        if torch.cuda.is_available():
            device, why = torch.device("cuda"), torch.cuda.get_device_name(0)
        elif getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            device, why = torch.device("mps"), "Apple GPU"
        else:
            device, why = torch.device("cpu"), f"no CUDA or MPS GPU found; {torch.get_num_threads()} threads"
    else:
        try:
            device = torch.device(preference)
        except RuntimeError:
            raise ValueError(f"unknown device {preference!r}; use 'auto', 'cpu', 'cuda' or 'mps'") from None
        available = {
            "cpu": True,
            "cuda": torch.cuda.is_available(),
            "mps": bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available(),
        }
        if not available.get(device.type, False):
            have = ", ".join(k for k, v in available.items() if v)
            raise ValueError(
                f"device {preference!r} is not available on this machine "
                f"(available: {have}); use device='auto' to pick the best one"
            )
        why = "as requested"
    if verbose:
        print(f"Using device: {device} ({why})")
    return device


def synchronize(device: torch.device) -> None:
    """Wait until ``device`` has finished the work queued so far: a GPU (CUDA or Apple's MPS) runs
    asynchronously, so a clock read without waiting measures only how fast Python queued the work."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def timed(work, device: torch.device) -> tuple[float, object]:
    """``(seconds, value)`` of ``value = work()`` on ``device``, the device's queued work included.

    The course's one timer: `experiments.training_speed` and ``course bench`` use it; lesson 13
    writes the same steps itself, as its subject.
    """
    synchronize(device)
    start = time.perf_counter()
    value = work()
    synchronize(device)
    return time.perf_counter() - start, value
