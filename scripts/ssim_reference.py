#!/usr/bin/python3
"""Golden SSIM and PSNR values from scikit-image for the SkimageAgreement test.

A one-time, independent check of metrics/frame_metrics.cpp (DESIGN §6): dfbench's SSIM
must match skimage.metrics.structural_similarity with gaussian_weights=True, sigma=1.5,
use_sample_covariance=False, data_range=1.0, channel_axis=-1 (11x11 window, valid region,
mean over channels) on float64 frames /255, and its PSNR must match
peak_signal_noise_ratio(data_range=1.0). The frames are built from integer formulas that
tests/test_frame_metrics.cpp repeats exactly (make_pair there), so both sides see the
same bytes.

Not a project dependency. Run with Debian's python3-skimage:
    /usr/bin/python3 scripts/ssim_reference.py
It prints the skimage version and one C++ initialiser line per case, to paste into the
kSkimageGolden table of the test.
"""
import numpy as np
import skimage
from skimage.metrics import peak_signal_noise_ratio, structural_similarity


def grid(h, w, c):
    return np.meshgrid(np.arange(h), np.arange(w), np.arange(c), indexing="ij")


def pattern(h, w, c, k):
    """A busy, non-smooth uint8 pattern: (37i + 11j + 71c + k) mod 256."""
    i, j, ch = grid(h, w, c)
    return ((i * 37 + j * 11 + ch * 71 + k) % 256).astype(np.uint8)


def gradient(h, w, c):
    """A smooth ramp: 20 + floor(150i/(h-1)) + floor(60j/(w-1)) + 10c, within 20..250."""
    i, j, ch = grid(h, w, c)
    return (20 + (i * 150) // (h - 1) + (j * 60) // (w - 1) + ch * 10).astype(np.uint8)


def shift_noise(x, delta):
    """x + delta + ((13i + 7j + 5c) mod 9) - 4, clipped to 0..255."""
    h, w, c = x.shape
    i, j, ch = grid(h, w, c)
    noise = (i * 13 + j * 7 + ch * 5) % 9 - 4
    return np.clip(x.astype(np.int64) + delta + noise, 0, 255).astype(np.uint8)


def make_pair(name, h, w, c):
    if name == "pattern_vs_pattern":
        return pattern(h, w, c, 0), pattern(h, w, c, 5)
    if name == "gradient_shift_noise":
        g = gradient(h, w, c)
        return g, shift_noise(g, 12)
    if name == "pattern_noise":
        p = pattern(h, w, c, 3)
        return p, shift_noise(p, 0)
    if name == "gradient_vs_pattern":
        return gradient(h, w, c), pattern(h, w, c, 7)
    raise ValueError(name)


CASES = [
    ("pattern_vs_pattern", 32, 32, 3),
    ("gradient_shift_noise", 64, 64, 1),
    ("pattern_noise", 17, 23, 3),
    ("gradient_vs_pattern", 17, 23, 3),
    ("gradient_shift_noise", 11, 11, 3),  # the smallest frame: one valid pixel
    ("pattern_noise", 64, 64, 3),
]


def main():
    print(f"// skimage {skimage.__version__}, numpy {np.__version__}")
    for name, h, w, c in CASES:
        a, b = make_pair(name, h, w, c)
        x, y = a.astype(np.float64) / 255.0, b.astype(np.float64) / 255.0
        ssim = structural_similarity(x, y, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                     data_range=1.0, channel_axis=-1)
        psnr = peak_signal_noise_ratio(x, y, data_range=1.0)
        print(f'    {{"{name}", {h}, {w}, {c}, {ssim:.12f}, {psnr:.12f}}},')


if __name__ == "__main__":
    main()
