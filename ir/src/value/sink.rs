//! Where a kernel may write its result in place: a [`Sink`] — a tensor nothing else holds
//! (written in place, copied first if it turns out to be shared), or one row of a
//! [`Stack`], a buffer of rows written one at a time (a loop's stacked trace) whose rows
//! the loop's steps read while later rows are written.
//!
//! A row of a stack is a view sharing the stack's buffer, so ndarray's own mutable access
//! would copy it first (copy-on-write of a shared `ArcArray`). A stack instead lends each
//! row at most once ([`Stack::lend`]) as a [`StackRow`], the only handle on the row's
//! elements until it hands them out; it writes through the array's data pointer. This is the
//! crate's one `unsafe` module: every other write into a buffer goes through ndarray.

use crate::dtype::DType;
use crate::error::ValueError;
use crate::value::{Tensor, TensorElement};
use ndarray::{ArrayViewMutD, Axis, IxDyn};
use std::marker::PhantomData;

/// A buffer of rows (axis 0) written one at a time, each read once written while later ones
/// are written: a loop's stacked trace. Each row is written at most once through the stack:
/// directly ([`write`](Self::write)) or by whoever it is lent to ([`lend`](Self::lend)).
/// Nothing reads the buffer but the rows handed out, until [`into_tensor`](Self::into_tensor).
#[derive(Debug)]
pub struct Stack {
    /// The buffer: standard layout, at least one axis, and (when the stack was made) held by
    /// nothing else.
    data: Tensor,
    /// By row: lent out (from then on, read by others and never written by the stack).
    lent: Vec<bool>,
}

impl Stack {
    /// A stack over `data`'s rows (axis 0). Gives `data` back when it has no axis, is not in
    /// standard layout, or something else holds its storage (a clone, a view).
    pub fn new(data: Tensor) -> Result<Stack, Tensor> {
        let fits =
            data.ndim() >= 1 && data.is_unique() && crate::with_array!(&data, a => a.is_standard_layout());
        if !fits {
            return Err(data);
        }
        let lent = vec![false; data.shape()[0]];
        Ok(Stack { data, lent })
    }

    /// The number of rows.
    pub fn rows(&self) -> usize {
        self.lent.len()
    }

    /// The shape of one row.
    pub fn row_shape(&self) -> &[usize] {
        &self.data.shape()[1..]
    }

    /// The dtype of the elements.
    pub fn dtype(&self) -> DType {
        self.data.dtype()
    }

    /// Copies `src` into row `r`. An error when `src` does not have the row's dtype and
    /// shape, or `r` is out of range or lent.
    pub fn write(&mut self, r: usize, src: &Tensor) -> Result<(), ValueError> {
        if self.lent.get(r).is_none_or(|&lent| lent) {
            return Err(ValueError::invalid(
                "stack",
                format!("row {r} of {} is lent or absent", self.rows()),
            ));
        }
        // A row not lent is reached through this stack alone: held privately as a row.
        let mut row = StackRow { view: self.row(r), handed_out: false, stack: PhantomData };
        row.assign(src)
    }

    /// Row `r`, to be written by the borrower alone (a step writing its output in place):
    /// `None` when `r` is out of range or was lent before.
    pub fn lend(&mut self, r: usize) -> Option<StackRow<'_>> {
        let lent = self.lent.get_mut(r)?;
        if *lent {
            return None;
        }
        *lent = true;
        Some(StackRow { view: self.row(r), handed_out: false, stack: PhantomData })
    }

    /// The whole buffer (no row is being written any more: every lent row borrowed the
    /// stack, and the borrows have ended).
    pub fn into_tensor(self) -> Tensor {
        self.data
    }

    /// Row `r` as a view sharing the buffer.
    fn row(&self, r: usize) -> Tensor {
        crate::map_array!(self.data.clone(), a => a.index_axis_move(Axis(0), r))
    }
}

/// One row of a [`Stack`], lent to be written: until it hands its elements out
/// ([`tensor`](Self::tensor), [`into_tensor`](Self::into_tensor)) nothing else reaches
/// them; after, it writes them no more.
#[derive(Debug)]
pub struct StackRow<'s> {
    /// The row: a standard-layout view sharing the stack's buffer, reached by nothing else.
    view: Tensor,
    /// Whether the row was handed out (then others may read it: it is not written again).
    handed_out: bool,
    /// The stack is borrowed while the row is lent: it cannot hand out its whole buffer.
    stack: PhantomData<&'s mut Stack>,
}

impl StackRow<'_> {
    /// The dtype of the row.
    pub fn dtype(&self) -> DType {
        self.view.dtype()
    }

    /// The shape of the row.
    pub fn shape(&self) -> &[usize] {
        self.view.shape()
    }

    /// True when `t` is this row (the same view of the same memory: a step's output written
    /// in place).
    pub fn holds(&self, t: &Tensor) -> bool {
        self.view.shares_data(t)
    }

    /// The row's elements in order, to write: `None` when `T` is not the row's element type
    /// or the row was handed out.
    pub fn data_mut<T: TensorElement>(&mut self) -> Option<&mut [T]> {
        if self.handed_out {
            return None;
        }
        let a = T::array(&self.view)?;
        // A row of a standard-layout buffer is in standard layout: checked all the same,
        // since the slice below must cover exactly the row's elements.
        if !a.is_standard_layout() {
            return None;
        }
        let (ptr, len) = (a.as_ptr().cast_mut(), a.len());
        // SAFETY: `ptr` is the row's data pointer. ndarray makes an array's pointer from its
        // buffer's `Vec::as_mut_ptr` (`OwnedRepr::from`) and only offsets it since (the
        // stack's `index_axis_move`); `as_ptr` copies it without making a reference to the
        // elements, so it keeps its write permission over the whole allocation (ndarray's
        // own `as_mut_ptr` writes through the same pointer after its uniqueness check). In
        // standard layout, the row's `len` elements are the `len` contiguous ones from
        // `ptr`: in bounds, aligned, initialized (every tensor's elements are). The buffer
        // lives as long as `self.view`, which holds it. No other access to these elements
        // happens while the slice lives: the stack lends each row once, never writes a lent
        // row and reads none until its `into_tensor`, which needs this row's borrow of it to
        // have ended; the row was not handed out (checked above), so no other handle on
        // these elements exists; other rows are other memory; and the slice borrows `self`
        // mutably, so no two slices of this row overlap in time.
        Some(unsafe { std::slice::from_raw_parts_mut(ptr, len) })
    }

    /// Copies `src` into the row. An error when `src` does not have the row's dtype and
    /// shape, or the row was handed out.
    pub fn assign(&mut self, src: &Tensor) -> Result<(), ValueError> {
        if src.dtype() != self.dtype() || src.shape() != self.shape() {
            return Err(ValueError::invalid(
                "stack",
                format!(
                    "cannot write {} of shape {:?} into a row of {} of shape {:?}",
                    src.dtype(),
                    src.shape(),
                    self.dtype(),
                    self.shape()
                ),
            ));
        }
        fn typed<T: TensorElement>(row: &mut StackRow<'_>, src: &Tensor) -> Option<()> {
            let shape = IxDyn(row.shape());
            let s = src.array::<T>().ok()?;
            // `src` cannot overlap the row: nothing but this row reaches its elements.
            ArrayViewMutD::from_shape(shape, row.data_mut::<T>()?).ok()?.assign(&s);
            Some(())
        }
        let done = match src.dtype() {
            DType::Bool => typed::<bool>(self, src),
            DType::I32 => typed::<i32>(self, src),
            DType::I64 => typed::<i64>(self, src),
            DType::F32 => typed::<f32>(self, src),
            DType::F64 => typed::<f64>(self, src),
        };
        done.ok_or_else(|| ValueError::invalid("stack", "the row was handed out: it is not written again"))
    }

    /// The row as a tensor (sharing the stack's buffer), handed out: others may read it from
    /// now on, and it is not written again through this row.
    pub fn tensor(&mut self) -> Tensor {
        self.handed_out = true;
        self.view.clone()
    }

    /// The row as a tensor (sharing the stack's buffer), written no more.
    pub fn into_tensor(self) -> Tensor {
        self.view
    }
}

/// Where a kernel may write its result in place: a tensor nothing else holds (a buffer of
/// the loop's carry from two steps back, a caller's output array, a spare buffer of an
/// updated variable), or a row of a [`Stack`]. A kernel checks the dtype and shape, writes
/// the elements through [`data_mut`](Self::data_mut) — the one way every kernel writes
/// into a sink — and returns [`tensor`](Self::tensor).
#[derive(Debug)]
pub struct Sink<'a>(Kind<'a>);

#[derive(Debug)]
enum Kind<'a> {
    Owned(&'a mut Tensor),
    Row(StackRow<'a>),
}

impl<'a> Sink<'a> {
    /// A sink writing into `t` in place (into a copy of it first when its storage turns out
    /// to be shared: nothing else ever sees the write).
    pub fn owned(t: &'a mut Tensor) -> Sink<'a> {
        Sink(Kind::Owned(t))
    }

    /// A sink writing into a row of a stack.
    pub fn row(row: StackRow<'a>) -> Sink<'a> {
        Sink(Kind::Row(row))
    }

    /// The stack's row back, if this sink is one.
    pub fn into_row(self) -> Option<StackRow<'a>> {
        match self.0 {
            Kind::Row(r) => Some(r),
            Kind::Owned(_) => None,
        }
    }

    /// The dtype of the sink.
    pub fn dtype(&self) -> DType {
        match &self.0 {
            Kind::Owned(t) => t.dtype(),
            Kind::Row(r) => r.dtype(),
        }
    }

    /// The shape of the sink.
    pub fn shape(&self) -> &[usize] {
        match &self.0 {
            Kind::Owned(t) => t.shape(),
            Kind::Row(r) => r.shape(),
        }
    }

    /// The sink's elements in order (standard layout), to write: `None` when `T` is not its
    /// element type, it is not contiguous in standard layout, or (a stack's row) it was
    /// handed out.
    pub fn data_mut<T: TensorElement>(&mut self) -> Option<&mut [T]> {
        match &mut self.0 {
            // Copy-on-write: a tensor whose storage is shared is copied first.
            Kind::Owned(t) => T::array_mut(t)?.as_slice_mut(),
            Kind::Row(r) => r.data_mut(),
        }
    }

    /// The sink as a tensor (the result written into it: sharing its data); a stack's row is
    /// handed out, written no more through this sink.
    pub fn tensor(&mut self) -> Tensor {
        match &mut self.0 {
            Kind::Owned(t) => t.clone(),
            Kind::Row(r) => r.tensor(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_lent_once_and_written_in_place() {
        let mut stack = Stack::new(Tensor::zeros(DType::F64, &[3, 2])).unwrap();
        stack.write(0, &Tensor::from(vec![1.0, 2.0])).unwrap();
        let first = {
            let mut row = stack.lend(1).unwrap();
            row.data_mut::<f64>().unwrap().copy_from_slice(&[3.0, 4.0]);
            row.tensor()
        };
        assert!(stack.lend(1).is_none(), "a row is lent once");
        assert!(stack.write(1, &Tensor::from(vec![0.0, 0.0])).is_err(), "a lent row is not written");
        let mut row = stack.lend(2).unwrap();
        assert!(row.data_mut::<f32>().is_none(), "the row's element type only");
        row.assign(&Tensor::from(vec![5.0, 6.0])).unwrap();
        let mut sink = Sink::row(row);
        let out = sink.tensor();
        assert!(sink.data_mut::<f64>().is_none(), "a row handed out is not written again");
        assert!(sink.into_row().unwrap().assign(&Tensor::from(vec![0.0, 0.0])).is_err());
        let all = stack.into_tensor();
        assert_eq!(all.to_f64_vec(), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!((first.to_f64_vec(), out.to_f64_vec()), (vec![3.0, 4.0], vec![5.0, 6.0]));
        assert!(first.shares_data(&crate::map_array!(all, a => a.index_axis_move(Axis(0), 1))));
    }

    #[test]
    fn each_row_is_written_while_the_one_before_is_read() {
        // A loop's pattern: row `r` computed from row `r - 1`, both borrowed at once.
        let mut stack = Stack::new(Tensor::zeros(DType::F64, &[4, 3])).unwrap();
        stack.write(0, &Tensor::from(vec![1.0, 2.0, 3.0])).unwrap();
        let mut previous = crate::map_array!(stack.data.clone(), a => a.index_axis_move(Axis(0), 0));
        for r in 1..4 {
            let mut sink = Sink::row(stack.lend(r).unwrap());
            let before = previous.array::<f64>().unwrap();
            let (src, dst) = (before.as_slice().unwrap(), sink.data_mut::<f64>().unwrap());
            for (d, s) in dst.iter_mut().zip(src) {
                *d = 2.0 * s;
            }
            previous = sink.tensor();
        }
        let all = stack.into_tensor().to_f64_vec();
        assert_eq!(all, vec![1.0, 2.0, 3.0, 2.0, 4.0, 6.0, 4.0, 8.0, 12.0, 8.0, 16.0, 24.0]);
    }

    #[test]
    fn only_a_buffer_nothing_else_holds_becomes_a_stack() {
        let t = Tensor::zeros(DType::F32, &[2, 2]);
        let held = t.clone();
        assert!(Stack::new(t).is_err());
        drop(held);
        assert!(Stack::new(Tensor::from(1.0)).is_err(), "no axis");
        let transposed = crate::map_array!(Tensor::zeros(DType::F32, &[2, 3]), a => a.reversed_axes());
        assert!(Stack::new(transposed).is_err(), "not in standard layout");
        let mut stack = Stack::new(Tensor::zeros(DType::I32, &[2, 0])).unwrap();
        assert!(stack.write(1, &Tensor::zeros(DType::I32, &[0])).is_ok());
        assert!(stack.write(2, &Tensor::zeros(DType::I32, &[0])).is_err(), "out of range");
        assert!(stack.write(0, &Tensor::zeros(DType::I64, &[0])).is_err(), "dtype");
    }

    #[test]
    fn an_owned_sink_copies_shared_storage_before_writing() {
        let mut t = Tensor::zeros(DType::F64, &[2]);
        let held = t.clone();
        let mut sink = Sink::owned(&mut t);
        sink.data_mut::<f64>().unwrap()[0] = 1.0;
        let out = sink.tensor();
        assert_eq!((out.to_f64_vec(), held.to_f64_vec()), (vec![1.0, 0.0], vec![0.0, 0.0]));
        assert!(out.shares_data(&t));
    }
}
