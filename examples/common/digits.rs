//! The data set of the classic programs (`examples/logistic_sgd.rs`, `mlp.rs`, `lenet.rs`):
//! handwritten-like digits, 28x28 pixels in [0, 1], made from a seed instead of downloaded
//! (MNIST's place in the deeplearning.net tutorials), the same kind of images as
//! `examples/python/digits.py` draws (not bit-identical: another generator of random numbers).
//!
//! Each image is a digit of a 5x7 pixel font drawn at a random size, slant, rotation, stroke
//! width, position and contrast, with noise: a ten-class problem that a linear model only
//! partly solves and a convolutional network solves well. The same seed gives the same
//! images on every machine (SplitMix64, `tests/common/rng.rs`).

#![allow(dead_code)]

#[path = "../../tests/common/rng.rs"]
pub mod rng;

use ndarray::{Array2, Array3, Axis};
pub use rng::Rng;

/// The 5x7 font, one string of 7 rows of 5 pixels per digit.
const FONT: [&str; 10] = [
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
];

/// The side of an image, in pixels.
pub const SIZE: usize = 28;
/// Pixels of an image (one row of the data matrix).
pub const PIXELS: usize = SIZE * SIZE;

/// Whether the font pixel at row `v` (0..7) and column `u` (0..5) of `digit` is ink.
fn glyph(digit: usize, v: usize, u: usize) -> bool {
    FONT[digit].as_bytes()[v * 6 + u] == b'1'
}

/// One pass of the separable [1, 2, 1] / 4 filter over the rows and columns of an image,
/// zero outside it.
fn blur(img: &Array2<f64>) -> Array2<f64> {
    let at = |a: &Array2<f64>, r: isize, c: isize| -> f64 {
        if r < 0 || c < 0 || r >= SIZE as isize || c >= SIZE as isize {
            0.0
        } else {
            a[(r as usize, c as usize)]
        }
    };
    let rows = Array2::from_shape_fn((SIZE, SIZE), |(r, c)| {
        let (r, c) = (r as isize, c as isize);
        (at(img, r - 1, c) + 2.0 * at(img, r, c) + at(img, r + 1, c)) / 4.0
    });
    Array2::from_shape_fn((SIZE, SIZE), |(r, c)| {
        let (r, c) = (r as isize, c as isize);
        (at(&rows, r, c - 1) + 2.0 * at(&rows, r, c) + at(&rows, r, c + 1)) / 4.0
    })
}

/// `n` uniform draws in `[lo, hi)`.
fn uniform(rng: &mut Rng, n: usize, lo: f64, hi: f64) -> Vec<f64> {
    (0..n).map(|_| lo + (hi - lo) * rng.uniform()).collect()
}

/// `(x, y)`: `n` images flattened to rows of 784 values in [0, 1], and their labels
/// (balanced: `n / 10` or one more of each digit, in a random order), from `seed`.
pub fn synthetic_digits(n: usize, seed: u64) -> (Array2<f64>, Vec<i64>) {
    let mut rng = Rng::new(seed);
    // The labels 0..9 repeated, shuffled (Fisher–Yates).
    let mut y: Vec<i64> = (0..n).map(|i| (i % 10) as i64).collect();
    for i in (1..n).rev() {
        let j = ((rng.uniform() * (i + 1) as f64) as usize).min(i);
        y.swap(i, j);
    }
    let scale = uniform(&mut rng, n, 2.3, 3.1); // pixels per font pixel
    let aspect = uniform(&mut rng, n, 0.8, 1.25); // width / height
    let angle = uniform(&mut rng, n, -0.25, 0.25); // radians
    let shear = uniform(&mut rng, n, -0.35, 0.35);
    let shift_r = uniform(&mut rng, n, -2.5, 2.5); // pixels
    let shift_c = uniform(&mut rng, n, -2.5, 2.5);
    let thick: Vec<bool> = (0..n).map(|_| rng.uniform() < 0.5).collect(); // wider, softer strokes
    let gain = uniform(&mut rng, n, 1.2, 2.0);
    let contrast = uniform(&mut rng, n, 0.6, 1.0);

    let centre = (SIZE as f64 - 1.0) / 2.0;
    let mut images = Array3::<f64>::zeros((n, SIZE, SIZE));
    for (k, mut out) in images.axis_iter_mut(Axis(0)).enumerate() {
        let digit = y[k] as usize;
        let (cos, sin) = (angle[k].cos(), angle[k].sin());
        // Output pixel -> font coordinates: the inverse of scale, aspect, shear, rotation,
        // sampled 4 times a pixel.
        let mut img = Array2::from_shape_fn((SIZE, SIZE), |(r, c)| {
            let mut ink = 0.0;
            for (dr, dc) in [(-0.25, -0.25), (-0.25, 0.25), (0.25, -0.25), (0.25, 0.25)] {
                let rr = r as f64 - centre + dr - shift_r[k];
                let cc = c as f64 - centre + dc - shift_c[k];
                let (rr, cc) = (cos * rr + sin * cc, -sin * rr + cos * cc);
                let cc = cc - shear[k] * rr;
                let v = rr / scale[k] + 3.5;
                let u = cc / (scale[k] * aspect[k]) + 2.5;
                if (0.0..7.0).contains(&v) && (0.0..5.0).contains(&u) && glyph(digit, v as usize, u as usize)
                {
                    ink += 1.0;
                }
            }
            ink / 4.0
        });
        img = blur(&img);
        if thick[k] {
            img = blur(&img);
        }
        for (o, &p) in out.iter_mut().zip(img.iter()) {
            let p = (p * gain[k]).clamp(0.0, 1.0) * contrast[k];
            *o = (p + 0.08 * rng.normal()).clamp(0.0, 1.0);
        }
    }
    (images.into_shape_with_order((n, PIXELS)).expect("n rows of 784 pixels"), y)
}

/// The three sets, training, validation and test, of `n_train`, `n_valid` and `n_test`
/// images drawn with the seeds `seed`, `seed + 1` and `seed + 2`.
pub fn load(n_train: usize, n_valid: usize, n_test: usize, seed: u64) -> [(Array2<f64>, Vec<i64>); 3] {
    [synthetic_digits(n_train, seed), synthetic_digits(n_valid, seed + 1), synthetic_digits(n_test, seed + 2)]
}
