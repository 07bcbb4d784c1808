//! Convolution and pooling for the Python package: `conv2d`, its two gradients and
//! `pool_2d`, with their parameters already normalized by the Python side
//! (`tensorlift.tensor.nnet.abstract_conv`, `tensorlift.tensor.signal.pool`).

use crate::var::{as_var, wrap};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use tensorlift as tl;
use tl::{BorderMode, ConvParams, Length, PoolMode, PoolParams};

/// The parameters of a convolution: `border` is `'valid'`, `'full'`, `'half'` or `'pad'`
/// (then `pads` gives `((top, bottom), (left, right))`).
fn params(
    border: &str,
    pads: [[usize; 2]; 2],
    subsample: [usize; 2],
    filter_flip: bool,
    filter_dilation: [usize; 2],
    num_groups: usize,
) -> PyResult<ConvParams> {
    let border = match border {
        "pad" => BorderMode::Pad([(pads[0][0], pads[0][1]), (pads[1][0], pads[1][1])]).canonical(),
        name => BorderMode::from_name(name).ok_or_else(|| {
            PyValueError::new_err(format!(
                "invalid border_mode {name:?}, which must be either \"valid\", \"full\", \"half\", an integer or a tuple of length 2"
            ))
        })?,
    };
    Ok(ConvParams { border, subsample, dilation: filter_dilation, filter_flip, groups: num_groups })
}

/// A spatial length: a non-negative int or an integer scalar variable.
fn length(obj: &Bound<'_, PyAny>) -> PyResult<Length> {
    match obj.extract::<i64>() {
        Ok(n) => usize::try_from(n)
            .map(Length::Fixed)
            .map_err(|_| PyValueError::new_err(format!("negative length {n}"))),
        Err(_) => as_var(obj).map(Length::Var),
    }
}

/// Theano's `conv2d` (the abstract convolution).
#[pyfunction]
#[pyo3(signature = (input, filters, border, pads, subsample, filter_flip, filter_dilation, num_groups))]
#[allow(clippy::too_many_arguments)]
pub fn conv2d<'py>(
    py: Python<'py>,
    input: &Bound<'py, PyAny>,
    filters: &Bound<'py, PyAny>,
    border: &str,
    pads: [[usize; 2]; 2],
    subsample: [usize; 2],
    filter_flip: bool,
    filter_dilation: [usize; 2],
    num_groups: usize,
) -> PyResult<Bound<'py, PyAny>> {
    let p = params(border, pads, subsample, filter_flip, filter_dilation, num_groups)?;
    wrap(py, tl::conv2d(as_var(input)?, as_var(filters)?, &p))
}

/// The gradient of a convolution with respect to its input (`conv2d_grad_wrt_inputs`) for
/// an input of `rows, cols`.
#[pyfunction]
#[pyo3(signature = (output_grad, filters, rows, cols, border, pads, subsample, filter_flip, filter_dilation, num_groups))]
#[allow(clippy::too_many_arguments)]
pub fn conv2d_grad_inputs<'py>(
    py: Python<'py>,
    output_grad: &Bound<'py, PyAny>,
    filters: &Bound<'py, PyAny>,
    rows: &Bound<'py, PyAny>,
    cols: &Bound<'py, PyAny>,
    border: &str,
    pads: [[usize; 2]; 2],
    subsample: [usize; 2],
    filter_flip: bool,
    filter_dilation: [usize; 2],
    num_groups: usize,
) -> PyResult<Bound<'py, PyAny>> {
    let p = params(border, pads, subsample, filter_flip, filter_dilation, num_groups)?;
    let shape = [length(rows)?, length(cols)?];
    wrap(py, tl::conv2d_grad_wrt_inputs(as_var(output_grad)?, as_var(filters)?, shape, &p))
}

/// The gradient of a convolution with respect to its filters (`conv2d_grad_wrt_weights`)
/// for filters of `rows, cols`.
#[pyfunction]
#[pyo3(signature = (input, output_grad, rows, cols, border, pads, subsample, filter_flip, filter_dilation, num_groups))]
#[allow(clippy::too_many_arguments)]
pub fn conv2d_grad_weights<'py>(
    py: Python<'py>,
    input: &Bound<'py, PyAny>,
    output_grad: &Bound<'py, PyAny>,
    rows: &Bound<'py, PyAny>,
    cols: &Bound<'py, PyAny>,
    border: &str,
    pads: [[usize; 2]; 2],
    subsample: [usize; 2],
    filter_flip: bool,
    filter_dilation: [usize; 2],
    num_groups: usize,
) -> PyResult<Bound<'py, PyAny>> {
    let p = params(border, pads, subsample, filter_flip, filter_dilation, num_groups)?;
    let shape = [length(rows)?, length(cols)?];
    wrap(py, tl::conv2d_grad_wrt_weights(as_var(input)?, as_var(output_grad)?, shape, &p))
}

/// Theano's `pool_2d` over the last two axes.
#[pyfunction]
#[pyo3(signature = (input, ws, stride, pad, ignore_border, mode))]
pub fn pool_2d<'py>(
    py: Python<'py>,
    input: &Bound<'py, PyAny>,
    ws: [usize; 2],
    stride: [usize; 2],
    pad: [usize; 2],
    ignore_border: bool,
    mode: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let mode = PoolMode::from_name(mode).ok_or_else(|| {
        PyValueError::new_err(format!(
            "Pool mode parameter only support 'max', 'sum', 'average_inc_pad' and 'average_exc_pad'. Got {mode}"
        ))
    })?;
    wrap(py, tl::pool_2d(as_var(input)?, &PoolParams { ws, stride, pad, ignore_border, mode }))
}
