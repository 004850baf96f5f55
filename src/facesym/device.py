"""Where torch work runs, and how much of it fits in one batch there.

The config key ``device`` (``auto`` | ``cpu`` | ``cuda``) is resolved once per job with :func:`resolve_device`.
On a SLURM GPU job the scheduler exports ``CUDA_VISIBLE_DEVICES`` with the GPU it granted, so ``cuda`` (device 0
of the visible ones) is always the job's own GPU; ``auto`` therefore does the right thing both on a laptop and on
a cluster node, and a CPU-only job is unaffected.

Batch sizes follow a documented heuristic (:func:`batch_size_for`): a fixed, modest batch on the CPU, where larger
batches only cost memory, and on a GPU the largest power of two whose estimated working set fits in a fraction of
the memory that is free when the job starts.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

__all__ = [
    "DEVICE_SETTINGS",
    "CPU_BATCH",
    "MAX_BATCH",
    "DeviceError",
    "resolve_device",
    "image_bytes",
    "batch_size_for",
    "limit_cpu_threads",
]

#: The values the config key ``device`` accepts.
DEVICE_SETTINGS: tuple[str, ...] = ("auto", "cpu", "cuda")

#: Batch on the CPU. Throughput of convolutions on a few CPU cores saturates well below this, so a larger batch
#: would only raise peak memory (several jobs may share one node).
CPU_BATCH = 256

#: Upper bound on any batch. Beyond a few thousand images a GPU is saturated too, and very large batches make a
#: single failing call (out of memory on a busy GPU) needlessly expensive.
MAX_BATCH = 8192


class DeviceError(ValueError):
    """The configured device cannot be used here; the message names the config key and what to do."""


def resolve_device(setting: str = "auto") -> torch.device:
    """The torch device for the config key ``device``.

    Parameters
    ----------
    setting
        ``auto`` (CUDA when torch sees a GPU, else CPU), ``cpu``, ``cuda``, or ``cuda:N`` for a specific GPU.

    Returns
    -------
    torch.device
        The device to put models and batches on.

    Raises
    ------
    DeviceError
        For an unknown setting, and when CUDA is asked for but torch sees no GPU. An explicit ``cuda`` never falls
        back to the CPU silently: on a cluster that would turn a minutes-long GPU job into hours without a word.
    """
    import torch

    if not isinstance(setting, str):
        raise DeviceError(f"config key 'device': expected one of {', '.join(DEVICE_SETTINGS)}, got {setting!r}")
    text = setting.strip().lower()
    if text == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if text == "cpu":
        return torch.device("cpu")
    if text == "cuda" or (text.startswith("cuda:") and text[5:].isdigit()):
        if not torch.cuda.is_available():
            build = "this torch build has no CUDA support" if torch.version.cuda is None else "no GPU is visible"
            visible = os.environ.get("CUDA_VISIBLE_DEVICES")
            hint = f" (CUDA_VISIBLE_DEVICES={visible!r})" if visible is not None else ""
            raise DeviceError(
                f"config key 'device' is '{setting}' but {build}{hint}; set device: auto or cpu, "
                "or run the job where a GPU is granted (SLURM: resources gpu=1)"
            )
        device = torch.device(text)
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise DeviceError(
                f"config key 'device' is '{setting}' but only {torch.cuda.device_count()} GPU(s) are visible"
            )
        return device
    raise DeviceError(f"config key 'device': expected one of {', '.join(DEVICE_SETTINGS)}, got {setting!r}")


def image_bytes(size: int, channels: int = 1, activation_factor: float = 64.0) -> int:
    """Estimated peak memory one rendered image costs inside a classifier's forward pass.

    Parameters
    ----------
    size
        Image side in pixels (square images).
    channels
        1 (gray) or 3 (rgb).
    activation_factor
        Bytes of activations per input float. A small CNN's first layers hold tens of feature maps at input
        resolution; 64 covers the embedded zoo with room to spare. Raise it for big real classifiers.

    Returns
    -------
    int
        Bytes per image (float32 input times the activation factor).
    """
    if size < 1 or channels < 1 or activation_factor <= 0:
        raise ValueError(
            f"image_bytes needs positive size, channels and factor, got {size}, {channels}, {activation_factor}"
        )
    return int(size * size * channels * 4 * activation_factor)


def batch_size_for(
    device: torch.device | str,
    item_bytes: int,
    *,
    cpu_batch: int = CPU_BATCH,
    max_batch: int = MAX_BATCH,
    memory_fraction: float = 0.5,
    free_bytes: int | None = None,
) -> int:
    """A batch size that suits the device.

    Heuristic: on the CPU, ``min(cpu_batch, max_batch)``; peak memory, not throughput, is what grows with the batch
    there. On a GPU, the largest power of two ``b <= max_batch`` with ``b * item_bytes <= memory_fraction * free``
    (at least 1), where ``free`` is the GPU memory free now (so another process on a shared GPU is respected).
    Powers of two keep cuDNN on its fast kernels; half the free memory leaves room for the allocator's
    fragmentation and for the model itself.

    Parameters
    ----------
    device
        Where the batches run (a resolved device, see :func:`resolve_device`).
    item_bytes
        Estimated peak memory of one item, e.g. :func:`image_bytes`.
    cpu_batch
        Batch on the CPU.
    max_batch
        Upper bound on any batch.
    memory_fraction
        Share of the free GPU memory one batch may use, in ``(0, 1]``.
    free_bytes
        Free GPU memory in bytes; measured with ``torch.cuda.mem_get_info`` when not given.

    Returns
    -------
    int
        The batch size, at least 1.
    """
    if item_bytes < 1:
        raise ValueError(f"item_bytes must be positive, got {item_bytes}")
    if not 0 < memory_fraction <= 1:
        raise ValueError(f"memory_fraction must be in (0, 1], got {memory_fraction}")
    if cpu_batch < 1 or max_batch < 1:
        raise ValueError(f"batch bounds must be positive, got cpu_batch={cpu_batch}, max_batch={max_batch}")
    import torch

    device = torch.device(device)
    if device.type != "cuda":
        return min(cpu_batch, max_batch)
    if free_bytes is None:
        free_bytes, _total = torch.cuda.mem_get_info(device)
    fitting = min(int(free_bytes * memory_fraction) // item_bytes, max_batch)
    if fitting < 1:
        return 1
    return 1 << (fitting.bit_length() - 1)


def limit_cpu_threads(threads: int | None = None) -> int:
    """Make torch and numba use only the CPU cores this job was given.

    Both size their thread pools by the cores of the whole node, so on a shared cluster node, or when Snakemake
    runs several jobs side by side, every job would start one thread per core of the machine. Measured on a 2-core
    machine running two jobs at once: an embedded classifier trained in 236 s beside an expression job whose torch
    and numba pools were unlimited, and in 33 s alone. Call this once at the start of a job with the rule's
    ``threads``.

    Parameters
    ----------
    threads
        The job's thread budget (``snakemake.threads``). When not given, the CPUs this process may run on
        (its affinity mask, which SLURM restricts to the allocation where task affinity is configured).

    Returns
    -------
    int
        The number of intra-op threads torch uses from now on (numba's parallel kernels use at most as many).
    """
    if threads is None:
        threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    threads = max(1, int(threads))
    # A job that never uses torch or numba (the permutation tests) should not import them just to size their pools
    # (together several seconds of a new process): a library not imported yet reads its size from the environment
    # when it starts.
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)
    else:
        os.environ["OMP_NUM_THREADS"] = str(threads)
    if "numba" in sys.modules:
        numba = sys.modules["numba"]
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    else:
        os.environ["NUMBA_NUM_THREADS"] = str(threads)
    return sys.modules["torch"].get_num_threads() if "torch" in sys.modules else threads
