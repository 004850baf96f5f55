"""The config key ``device`` and device-dependent batch sizes (facesym.device)."""

import os
import subprocess
import sys

import numba
import pytest
import torch

from facesym.device import (
    CPU_BATCH,
    MAX_BATCH,
    DeviceError,
    batch_size_for,
    image_bytes,
    limit_cpu_threads,
    resolve_device,
)

MiB = 2**20
GiB = 2**30
needs_gpu = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU on this machine")


def test_auto_follows_what_torch_sees():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected


def test_cpu_is_always_available():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(" CPU ") == torch.device("cpu")


def test_cuda_without_a_gpu_is_an_error_naming_the_key():
    # CUDA_VISIBLE_DEVICES="" hides every GPU, so this checks the error on any machine, with or without one.
    code = (
        "from facesym.device import resolve_device, DeviceError\n"
        "print(resolve_device('auto').type)\n"
        "try:\n    resolve_device('cuda')\nexcept DeviceError as e:\n    print('ERROR', e)\n"
    )
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    first, second = out.strip().splitlines()
    assert first == "cpu", "auto must fall back to the CPU when no GPU is visible"
    assert second.startswith("ERROR config key 'device' is 'cuda'")
    assert "device: auto or cpu" in second


@pytest.mark.parametrize("setting", ["gpu", "cuda:x", "", "tpu"])
def test_unknown_settings_are_rejected(setting):
    with pytest.raises(DeviceError, match="config key 'device'"):
        resolve_device(setting)


def test_device_error_is_a_value_error():
    # callers that catch ValueError for bad config values (as facesym.config does) also catch this one
    assert issubclass(DeviceError, ValueError)


@needs_gpu
def test_cuda_resolves_to_the_visible_gpu():
    assert resolve_device("cuda").type == "cuda"
    assert resolve_device("auto").type == "cuda"
    with pytest.raises(DeviceError, match="GPU"):
        resolve_device(f"cuda:{torch.cuda.device_count()}")


def test_cpu_batch_is_fixed_whatever_the_item_size():
    assert batch_size_for("cpu", image_bytes(64)) == CPU_BATCH
    assert batch_size_for(torch.device("cpu"), image_bytes(512, 3)) == CPU_BATCH
    assert batch_size_for("cpu", 1, cpu_batch=32) == 32
    assert batch_size_for("cpu", 1, cpu_batch=512, max_batch=100) == 100


def test_gpu_batch_fills_half_the_free_memory_with_a_power_of_two():
    item = image_bytes(64)  # 64*64 gray float32 x 64 = 1 MiB
    assert item == 1 * MiB
    # 1 GiB free, half of it usable: 512 items of 1 MiB
    assert batch_size_for("cuda", item, free_bytes=1 * GiB) == 512
    # 700 MiB free -> 350 fit -> rounded down to 256
    assert batch_size_for("cuda", item, free_bytes=700 * MiB) == 256
    assert batch_size_for("cuda", item, free_bytes=700 * MiB, memory_fraction=1.0) == 512


def test_gpu_batch_is_bounded_both_ways():
    assert batch_size_for("cuda", image_bytes(64), free_bytes=140 * GiB) == MAX_BATCH
    assert batch_size_for("cuda", image_bytes(64), free_bytes=140 * GiB, max_batch=1000) == 512
    # a nearly full GPU still gets a batch of one rather than zero
    assert batch_size_for("cuda", image_bytes(64), free_bytes=100) == 1


def test_gpu_batch_grows_with_free_memory():
    sizes = [batch_size_for("cuda", image_bytes(128, 3), free_bytes=g * GiB) for g in (1, 2, 8, 24, 80)]
    assert sizes == sorted(sizes)
    assert all(b & (b - 1) == 0 for b in sizes), "powers of two"


@pytest.mark.parametrize(
    "kwargs",
    [{"item_bytes": 0}, {"item_bytes": 10, "memory_fraction": 0}, {"item_bytes": 10, "memory_fraction": 1.5}],
)
def test_batch_size_rejects_nonsense(kwargs):
    with pytest.raises(ValueError):
        batch_size_for("cuda", free_bytes=GiB, **kwargs)


def test_image_bytes_scales_with_pixels_and_channels():
    assert image_bytes(128, 3) == 4 * 3 * image_bytes(64, 1)
    with pytest.raises(ValueError):
        image_bytes(0)


@needs_gpu
def test_gpu_batch_from_measured_memory_runs_without_running_out():
    device = resolve_device("cuda")
    batch = batch_size_for(device, image_bytes(64))
    assert 1 <= batch <= MAX_BATCH and batch & (batch - 1) == 0
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.Conv2d(16, 16, 3))
    net = net.to(device)
    with torch.no_grad():
        out = net(torch.rand(batch, 1, 64, 64, device=device))
    assert out.shape[0] == batch


def test_limit_cpu_threads_sets_torch_and_numba_pools():
    before = torch.get_num_threads(), numba.get_num_threads()
    try:
        assert limit_cpu_threads(1) == 1
        assert torch.get_num_threads() == 1
        assert numba.get_num_threads() == 1
        assert limit_cpu_threads(0) == 1, "a zero budget still runs on one thread"
        cores = len(os.sched_getaffinity(0))
        assert limit_cpu_threads() == cores
        assert numba.get_num_threads() == min(cores, numba.config.NUMBA_NUM_THREADS)
    finally:
        torch.set_num_threads(before[0])
        numba.set_num_threads(before[1])


def test_limit_cpu_threads_before_torch_and_numba_are_imported_sizes_their_pools_without_importing_them():
    # A job that never renders or classifies (the permutation tests) must not pay torch's and numba's imports.
    code = (
        "import sys\n"
        "from facesym.device import limit_cpu_threads\n"
        "assert limit_cpu_threads(1) == 1\n"
        "assert 'torch' not in sys.modules and 'numba' not in sys.modules, 'limit_cpu_threads imported them'\n"
        "import numba, torch\n"
        "print(torch.get_num_threads(), numba.get_num_threads())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1", "1"]
