//! #19: conversions between Rust data and `Tensor`, both ways, with typed errors.

use ndarray::{array, Array1, Array2, ArrayD, IxDyn};
use tensorlift_ir::{Arg, DType, Tensor, ValueError};

#[test]
fn nested_arrays_convert_to_tensors() {
    let m = Tensor::from([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    assert_eq!(m.shape(), &[2, 3]);
    assert_eq!(m.to_vec::<f64>().unwrap(), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let t = Tensor::from([[[1i64, 2], [3, 4]], [[5, 6], [7, 8]], [[9, 10], [11, 12]]]);
    assert_eq!(t.shape(), &[3, 2, 2]);
    assert_eq!(t.dtype(), DType::I64);
    assert_eq!(t.to_vec::<i64>().unwrap()[11], 12);
    let f = Tensor::from([[0.5f32], [1.5]]);
    assert_eq!((f.dtype(), f.shape()), (DType::F32, &[2usize, 1][..]));
    // An empty inner array: shape [2, 0].
    let e = Tensor::from([[0.0f64; 0]; 2]);
    assert_eq!(e.shape(), &[2, 0]);
    // And as function arguments.
    let a = Arg::from([[true, false]]);
    assert_eq!(a.into_result().unwrap().shape(), &[1, 2]);
}

#[test]
fn tensors_convert_to_rust_values() {
    let s = Tensor::from(2.5);
    assert_eq!(f64::try_from(&s).unwrap(), 2.5);
    let v: f64 = s.try_into().unwrap();
    assert_eq!(v, 2.5);
    assert_eq!(f32::try_from(Tensor::from(0.8f32)).unwrap(), 0.8f32);
    assert_eq!(i64::try_from(Tensor::from(7i64)).unwrap(), 7);
    assert!(bool::try_from(Tensor::from(true)).unwrap());

    let m = Tensor::from([[1.0, 2.0], [3.0, 4.0]]);
    assert_eq!(Vec::<Vec<f64>>::try_from(&m).unwrap(), vec![vec![1.0, 2.0], vec![3.0, 4.0]]);
    assert_eq!(m.to_vec2::<f64>().unwrap(), vec![vec![1.0, 2.0], vec![3.0, 4.0]]);
    let a2: Array2<f64> = m.clone().try_into().unwrap();
    assert_eq!(a2, array![[1.0, 2.0], [3.0, 4.0]]);
    assert_eq!(m.clone().into_array2::<f64>().unwrap(), a2);
    let ad: ArrayD<f64> = (&m).try_into().unwrap();
    assert_eq!(ad.shape(), &[2, 2]);
    let v: Vec<i64> = Tensor::from(vec![1i64, 2, 3]).try_into().unwrap();
    assert_eq!(v, vec![1, 2, 3]);
    let a1: Array1<i64> = Tensor::from([4i64, 5]).try_into().unwrap();
    assert_eq!(a1, array![4, 5]);
    let t3 = Tensor::from([[[1, 2]], [[3, 4]]]);
    assert_eq!(t3.to_vec3::<i32>().unwrap(), vec![vec![vec![1, 2]], vec![vec![3, 4]]]);
}

#[test]
fn conversions_that_do_not_fit_are_typed_errors() {
    let m = Tensor::from([[1.0, 2.0], [3.0, 4.0]]);
    assert_eq!(f64::try_from(&m), Err(ValueError::NotScalar { shape: vec![2, 2] }));
    assert_eq!(
        f32::try_from(Tensor::from(1.0)),
        Err(ValueError::DType { expected: DType::F32, got: DType::F64 })
    );
    assert_eq!(Vec::<f64>::try_from(&m), Err(ValueError::Ndim { expected: 1, shape: vec![2, 2] }));
    assert_eq!(Array1::<f64>::try_from(m.clone()), Err(ValueError::Ndim { expected: 1, shape: vec![2, 2] }));
    assert_eq!(
        Vec::<Vec<i64>>::try_from(&m),
        Err(ValueError::DType { expected: DType::I64, got: DType::F64 })
    );
    assert_eq!(Tensor::from(1.0).to_vec2::<f64>(), Err(ValueError::Ndim { expected: 2, shape: vec![] }));
    let err = Tensor::from(vec![1.0]).to_vec3::<f64>().unwrap_err();
    assert_eq!(err.to_string(), "expected a 3-d tensor, got a tensor of shape [1]");
}

#[test]
fn ndarray_shape_errors_convert() {
    fn build() -> Result<Tensor, ValueError> {
        Ok(Tensor::from(ArrayD::from_shape_vec(IxDyn(&[2, 2]), vec![1.0, 2.0, 3.0])?))
    }
    let err = build().unwrap_err();
    assert!(matches!(err, ValueError::Shape(_)), "{err:?}");
    assert!(err.to_string().starts_with("ndarray: "), "{err}");
}
