"""Device choice: cuda, then mps, then cpu, and a plain-words description for the UI."""

from __future__ import annotations

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
