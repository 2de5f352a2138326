#!/usr/bin/python3
"""Golden SSIM and PSNR values from scikit-image, for tests/test_frame_metrics.cpp.

An independent implementation of the definitions in docs/metrics.md: dfbench's SSIM must
agree with skimage.metrics.structural_similarity(gaussian_weights=True, sigma=1.5,
use_sample_covariance=False, data_range=1) to 1e-4. The images are built by the same
integer formulas as in the test. Needs Debian's python3-skimage (not a project dependency):
    /usr/bin/python3 scripts/ssim_reference.py
prints the SKIMAGE_GOLDEN initialiser the test holds.
"""
import numpy as np
import skimage
from skimage.metrics import peak_signal_noise_ratio, structural_similarity


def pattern(h, w, c, k):
    i, j, ch = np.meshgrid(np.arange(h), np.arange(w), np.arange(c), indexing="ij")
    return ((i * 37 + j * 11 + ch * 71 + k) % 256).astype(np.uint8)


def gradient(h, w, c):
    i, j, ch = np.meshgrid(np.arange(h), np.arange(w), np.arange(c), indexing="ij")
    return ((4 * i + 3 * j + 20 * ch) % 200 + 20).astype(np.uint8)


def disturbed(h, w, c):
    v = gradient(h, w, c).astype(np.int64).ravel()
    n = np.arange(v.size)
    return ((v + 9 + (n * 7919) % 23 - 11) % 256).astype(np.uint8).reshape(h, w, c)


def pair(name, h, w, c):
    if name == "pattern":
        return pattern(h, w, c, 0), pattern(h, w, c, 40)
    return gradient(h, w, c), disturbed(h, w, c)


cases = [("pattern", 32, 32, 3), ("pattern", 64, 64, 1), ("gradient", 17, 23, 3), ("gradient", 64, 64, 3)]
lines = []
for name, h, w, c in cases:
    a, b = (x.astype(np.float64) / 255.0 for x in pair(name, h, w, c))
    ssim = structural_similarity(a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                 data_range=1.0, channel_axis=-1)
    psnr = peak_signal_noise_ratio(a, b, data_range=1.0)
    lines.append('{"%s", %d, %d, %d, %.10f, %.10f}' % (name, h, w, c, ssim, psnr))
print("// scikit-image %s" % skimage.__version__)
print("#define SKIMAGE_GOLDEN " + ", ".join(lines))
