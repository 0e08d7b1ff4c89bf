"""Memory readings inside the probed child, from whichever framework the script imported.

Every function takes the framework module so tests can hand in a fake. A zero is
never a measurement: CPU-only PyTorch returns zeros from its CUDA counters and
TensorFlow returns zeros before anything is allocated, so zeros become None.
"""

from __future__ import annotations

from typing import Any, Dict, Optional


def _positive(value: Any) -> Optional[int]:
    try:
        value = int(value)
    except (TypeError, ValueError):
        return None
    return value if value > 0 else None


def tf_gpus(tf: Any) -> list:
    try:
        return list(tf.config.list_physical_devices("GPU"))
    except Exception:
        return []


def tf_reset(tf: Any) -> int:
    """Start a new peak; the host allocator's current bytes then (the baseline a CPU peak is read
    above: the weights and data already loaded), 0 on a GPU."""
    gpus = tf_gpus(tf)
    device = "GPU:0" if gpus else "CPU:0"
    try:
        tf.config.experimental.reset_memory_stats(device)
    except Exception:
        pass
    return 0 if gpus else tf_current(tf, device)


def tf_current(tf: Any, device: str) -> int:
    try:
        return int(tf.config.experimental.get_memory_info(device)["current"])
    except Exception:
        return 0


def tf_reading(tf: Any, baseline: int = 0) -> Dict[str, Any]:
    """TensorFlow: the GPU allocator's peak on a GPU, else the CPU allocator's peak above `baseline`."""
    gpus = tf_gpus(tf)
    device = "GPU:0" if gpus else "CPU:0"
    try:
        peak = int(tf.config.experimental.get_memory_info(device)["peak"])
    except Exception:
        peak = 0
    if gpus:
        name = None
        try:
            details = tf.config.experimental.get_device_details(gpus[0])
            name = details.get("device_name")
        except Exception:
            pass
        return {"device": "gpu", "device_name": name, "gpu_peak": _positive(peak)}
    return {"device": "cpu", "tf_host_peak": _positive(peak - baseline)}


def torch_reading(torch: Any) -> Dict[str, Any]:
    """PyTorch on CUDA: max allocated, max reserved, the CUDA context and the device total."""
    try:
        if not torch.cuda.is_available():
            return {}
        allocated = _positive(torch.cuda.max_memory_allocated())
        reserved = _positive(torch.cuda.max_memory_reserved())
    except Exception:
        return {}
    if allocated is None:  # nothing was put on the GPU: the model runs on the CPU
        return {}
    out: Dict[str, Any] = {"device": "gpu", "torch_allocated_peak": allocated, "gpu_peak": reserved or allocated}
    try:
        props = torch.cuda.get_device_properties(0)
        out["device_name"] = props.name
        out["gpu_total"] = _positive(props.total_memory)
    except Exception:
        pass
    try:
        free, total = torch.cuda.mem_get_info()
        used = int(total) - int(free)
        current_reserved = int(torch.cuda.memory_reserved())
        out["cuda_context"] = _positive(used - current_reserved)
        out.setdefault("gpu_total", _positive(total))
    except Exception:
        pass
    return out


def torch_gpu_total(torch: Any) -> Optional[int]:
    try:
        if torch.cuda.is_available():
            return _positive(torch.cuda.get_device_properties(0).total_memory)
    except Exception:
        pass
    return None
