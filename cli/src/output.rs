//! How results are shown: NumPy-like text (the library's `Display` of a tensor) and the
//! stable JSON shapes of the issue: one output is
//! `{"dtype": "float64", "shape": [2, 2], "data": [row-major flat list]}`, with non-finite
//! floats as the strings `"inf"`, `"-inf"` and `"nan"`.

use serde_json::{json, Value};
use tensorlift as tl;

/// A float as JSON: a number, or `"inf"`, `"-inf"`, `"nan"`.
pub fn float_json(v: f64) -> Value {
    if v.is_nan() {
        json!("nan")
    } else if v == f64::INFINITY {
        json!("inf")
    } else if v == f64::NEG_INFINITY {
        json!("-inf")
    } else {
        json!(v)
    }
}

/// One tensor as `{"dtype", "shape", "data"}`.
pub fn tensor_json(t: &tl::Tensor) -> Value {
    let data: Vec<Value> = match t {
        tl::Tensor::Borrowed(b) => return tensor_json(&b.to_owned()),
        tl::Tensor::Bool(a) => a.iter().map(|&b| json!(b)).collect(),
        tl::Tensor::I32(a) => a.iter().map(|&v| json!(v)).collect(),
        tl::Tensor::I64(a) => a.iter().map(|&v| json!(v)).collect(),
        tl::Tensor::F32(a) => a.iter().map(|&v| float_json(f64::from(v))).collect(),
        tl::Tensor::F64(a) => a.iter().map(|&v| float_json(v)).collect(),
    };
    json!({ "dtype": t.dtype().name(), "shape": t.shape(), "data": data })
}

/// The tensor as NumPy prints it.
pub fn tensor_text(t: &tl::Tensor) -> String {
    t.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_shapes() {
        let t = tl::Tensor::from(vec![1.0, f64::INFINITY, f64::NAN]);
        let j = tensor_json(&t);
        assert_eq!(j["dtype"], "float64");
        assert_eq!(j["shape"], json!([3]));
        assert_eq!(j["data"], json!([1.0, "inf", "nan"]));
    }
}
