"""Peak dense throughput of known accelerators, for model FLOP utilisation (MFU)."""

from __future__ import annotations

__all__ = ["peak_flops"]

PEAKS_TFLOPS: dict[str, tuple[float, float]] = {
    # name fragment: (bf16 dense, fp32 non-tensor) in TFLOP/s, from the vendors' data sheets
    "H200": (989.0, 67.0),
    "H100": (989.0, 67.0),
    "A100": (312.0, 19.5),
    "L40S": (362.0, 91.6),
    "A10": (125.0, 31.2),
    "T4": (65.0, 8.1),
    "V100": (125.0, 15.7),
}


def peak_flops(device_name: str, bf16: bool) -> float | None:
    for fragment, (bf16_peak, fp32_peak) in PEAKS_TFLOPS.items():
        if fragment in device_name:
            return (bf16_peak if bf16 else fp32_peak) * 1e12
    return None
