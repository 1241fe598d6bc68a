"""Device choice: cuda, then mps, then cpu, and a plain-words description for the UI."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

from core.errors import UserError

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def cuda_available() -> bool:
    return torch.cuda.is_available()


def mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend and backend.is_available())


def available_devices() -> list[str]:
    """Devices present on this machine, best first; ``cpu`` is always last."""
    found = []
    if cuda_available():
        found.append("cuda")
    if mps_available():
        found.append("mps")
    found.append("cpu")
    return found


def resolve_device(choice: str = "auto") -> torch.device:
    """Turn a user's choice into a device, refusing one that is not present."""
    if choice not in DEVICE_CHOICES:
        raise UserError(f"unknown device {choice!r}; choose one of {', '.join(DEVICE_CHOICES)}")
    if choice == "auto":
        return torch.device(available_devices()[0])
    if choice not in available_devices():
        raise UserError(
            f"device {choice!r} is not available here; available: {', '.join(available_devices())}"
        )
    return torch.device(choice)


def describe_device(device: torch.device | str) -> str:
    """Human-readable device name, e.g. 'cuda (NVIDIA H100)' or 'cpu (2 threads)'."""
    device = torch.device(device)
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    if device.type == "mps":
        return "mps (Apple GPU)"
    threads = torch.get_num_threads()
    return f"cpu ({threads} thread{'s' if threads != 1 else ''})"


@contextmanager
def one_intra_op_thread() -> Iterator[None]:
    """One torch intra-op thread for the calling thread during the block.

    Tiny forward and backward passes on one picture (the window's answers, attacks, side by
    side): with two threads on a busy 2-core machine each op waits for a descheduled partner
    that OpenMP spins for (measured: a 0.5 ms pass took 100+ ms; one PGD attack 28-40 s
    instead of 1 s at load 7). The setting is per thread with OpenMP, so others keep theirs;
    a no-op where the thread already has one.
    """
    previous = torch.get_num_threads()
    if previous <= 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
