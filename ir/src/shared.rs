//! `SharedVar`: the storage cell behind a shared variable — state that lives outside every
//! compiled function, read at call time and written by `updates`.

use crate::error::ValueError;
use crate::types::TensorType;
use crate::value::Tensor;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

/// A named, typed, mutable value cell. Clones share the cell; equality is identity.
#[derive(Clone)]
pub struct SharedVar(Arc<SharedInner>);

struct SharedInner {
    name: String,
    ty: TensorType,
    value: RwLock<Tensor>,
    /// Held by a call that updates this variable from reading it to writing it, so
    /// concurrent read-modify-write updates are serialized and none is lost.
    update: Mutex<()>,
}

impl SharedVar {
    /// A cell of type `ty` (dtype of the value, any axis lengths of its rank) holding `value`.
    pub fn new(name: impl Into<String>, ty: TensorType, value: Tensor) -> Result<Self, ValueError> {
        check_fits(&ty, &value)?;
        Ok(SharedVar(Arc::new(SharedInner {
            name: name.into(),
            ty,
            value: RwLock::new(value),
            update: Mutex::new(()),
        })))
    }

    /// The variable's name.
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// Its type.
    pub fn ty(&self) -> &TensorType {
        &self.0.ty
    }

    /// The current value (cheap: the data is reference counted).
    pub fn get(&self) -> Tensor {
        self.0.value.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Replaces the value; on a wrong dtype or shape the old value stays and an error says why.
    pub fn set(&self, value: Tensor) -> Result<(), ValueError> {
        check_fits(&self.0.ty, &value)?;
        *self.0.value.write().unwrap_or_else(|e| e.into_inner()) = value;
        Ok(())
    }

    /// Locks the variable for a read-modify-write update (see `Function::call`). Lock several
    /// variables in the order of their `id` to avoid deadlocks.
    pub fn lock_for_update(&self) -> MutexGuard<'_, ()> {
        self.0.update.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A stable identity for hashing and printing.
    pub fn id(&self) -> usize {
        Arc::as_ptr(&self.0) as usize
    }
}

fn check_fits(ty: &TensorType, value: &Tensor) -> Result<(), ValueError> {
    if value.dtype() != ty.dtype {
        return Err(ValueError::DType { expected: ty.dtype, got: value.dtype() });
    }
    if !ty.accepts_shape(value.shape()) {
        return Err(ValueError::invalid(
            "set_value",
            format!("a value of shape {:?} does not fit type {ty}", value.shape()),
        ));
    }
    Ok(())
}

impl PartialEq for SharedVar {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for SharedVar {}

impl Hash for SharedVar {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.id().hash(state);
    }
}

impl std::fmt::Debug for SharedVar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SharedVar({}: {})", self.0.name, self.0.ty)
    }
}
