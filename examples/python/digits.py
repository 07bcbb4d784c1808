"""The data set of the classic programs: handwritten-like digits, 28x28 pixels in [0, 1],
made here from a seed instead of downloaded (MNIST's place in the deeplearning.net
tutorials).

Each image is a digit of a 5x7 pixel font drawn at a random size, slant, rotation, stroke
width, position and contrast, with noise: a ten-class problem that a linear model only
partly solves and a convolutional network solves well. numpy alone makes it, the same
arrays from the same seed on every machine (``numpy.random.default_rng``).

``DIGITS=sklearn`` (an environment variable) uses scikit-learn's bundled scans of
handwritten digits instead (1797 images of 8x8 pixels, each pixel repeated 3x3 and padded
to 28x28); scikit-learn is then needed, and only then.
"""

import os

import numpy

# The 5x7 font, one string of 7 rows of 5 pixels per digit.
FONT = [
    "01110 10001 10011 10101 11001 10001 01110",
    "00100 01100 00100 00100 00100 00100 01110",
    "01110 10001 00001 00010 00100 01000 11111",
    "11111 00010 00100 00010 00001 10001 01110",
    "00010 00110 01010 10010 11111 00010 00010",
    "11111 10000 11110 00001 00001 10001 01110",
    "00110 01000 10000 11110 10001 10001 01110",
    "11111 00001 00010 00100 01000 01000 01000",
    "01110 10001 10001 01110 10001 10001 01110",
    "01110 10001 10001 01111 00001 00010 01100",
]
GLYPHS = numpy.array([[[c == "1" for c in row] for row in g.split()] for g in FONT], dtype=float)
SIZE = 28


def _blur(images):
    """One pass of the separable [1, 2, 1] / 4 filter over the last two axes."""
    p = numpy.pad(images, ((0, 0), (1, 1), (1, 1)))
    rows = (p[:, :-2, :] + 2 * p[:, 1:-1, :] + p[:, 2:, :]) / 4
    return (rows[:, :, :-2] + 2 * rows[:, :, 1:-1] + rows[:, :, 2:]) / 4


def synthetic_digits(n, seed):
    """``(x, y)``: ``n`` images flattened to rows of 784 floats in [0, 1], and their labels
    (int64, balanced), from ``numpy.random.default_rng(seed)``."""
    rng = numpy.random.default_rng(seed)
    y = rng.permutation(numpy.arange(n) % 10)
    scale = rng.uniform(2.3, 3.1, n)                  # pixels per font pixel
    aspect = rng.uniform(0.8, 1.25, n)                # width / height
    angle = rng.uniform(-0.25, 0.25, n)               # radians
    shear = rng.uniform(-0.35, 0.35, n)
    shift = rng.uniform(-2.5, 2.5, (n, 2))            # pixels
    # Output pixel -> font coordinates: the inverse of scale, aspect, shear, rotation.
    r, c = numpy.meshgrid(numpy.arange(SIZE) - (SIZE - 1) / 2, numpy.arange(SIZE) - (SIZE - 1) / 2,
                          indexing="ij")
    acc = numpy.zeros((n, SIZE, SIZE))
    for dr, dc in ((-0.25, -0.25), (-0.25, 0.25), (0.25, -0.25), (0.25, 0.25)):  # 4 samples a pixel
        rr = (r + dr)[None] - shift[:, 0, None, None]
        cc = (c + dc)[None] - shift[:, 1, None, None]
        cos, sin = numpy.cos(angle)[:, None, None], numpy.sin(angle)[:, None, None]
        rr, cc = cos * rr + sin * cc, -sin * rr + cos * cc
        cc = cc - shear[:, None, None] * rr
        v = rr / scale[:, None, None] + 3.5
        u = cc / (scale * aspect)[:, None, None] + 2.5
        inside = (v >= 0) & (v < 7) & (u >= 0) & (u < 5)
        vi = numpy.clip(v, 0, 6).astype(int)
        ui = numpy.clip(u, 0, 4).astype(int)
        acc += inside * GLYPHS[y[:, None, None], vi, ui]
    img = acc / 4
    thick = rng.random(n) < 0.5                       # a second blur: wider, softer strokes
    img = _blur(img)
    img[thick] = _blur(img[thick])
    img = numpy.clip(img * rng.uniform(1.2, 2.0, n)[:, None, None], 0, 1)
    img = img * rng.uniform(0.6, 1.0, n)[:, None, None]
    img = numpy.clip(img + rng.normal(0, 0.08, img.shape), 0, 1)
    return img.reshape(n, SIZE * SIZE), y


def sklearn_digits():
    """``(x, y)`` of scikit-learn's 1797 scanned digits, upsampled to 28x28, in [0, 1]."""
    try:
        from sklearn.datasets import load_digits
    except ImportError as e:
        raise SystemExit("DIGITS=sklearn needs scikit-learn (pip install scikit-learn); "
                         "without it, leave DIGITS unset for the synthetic digits") from e
    d = load_digits()
    images = numpy.kron(d.images, numpy.ones((3, 3))) / 16.0            # 24x24
    images = numpy.pad(images, ((0, 0), (2, 2), (2, 2)))                # 28x28
    order = numpy.random.default_rng(0).permutation(len(images))
    return images[order].reshape(len(images), SIZE * SIZE), d.target[order]


def load(n_train=3000, n_valid=1000, n_test=1000, seed=2024):
    """``[(train_x, train_y), (valid_x, valid_y), (test_x, test_y)]`` as numpy arrays:
    ``x`` float64 rows of 784 pixels, ``y`` int64 labels. The synthetic sets are drawn with
    the seeds ``seed``, ``seed + 1``, ``seed + 2``; with ``DIGITS=sklearn``, the 1797 scans
    are split 1000 / 397 / 400 and the sizes are ignored."""
    if os.environ.get("DIGITS", "synthetic") == "sklearn":
        x, y = sklearn_digits()
        return [(x[:1000], y[:1000]), (x[1000:1397], y[1000:1397]), (x[1397:], y[1397:])]
    return [synthetic_digits(n_train, seed), synthetic_digits(n_valid, seed + 1),
            synthetic_digits(n_test, seed + 2)]
