//! `SharedVar`: the storage cell behind a shared variable — state that lives outside every
//! compiled function, read at call time and written by `updates`.
//!
//! # What concurrent users see
//! Every cell carries a version, bumped by each write. Reading and writing follow one
//! protocol, so that every call, `get` and `set` is linearizable (it takes effect at one
//! instant between its start and its end):
//! - [`SharedVar::snapshot`] reads several cells at one instant: it holds the read locks of
//!   all of them together (taken in the order of [`SharedVar::id`]), so it never sees half
//!   of another call's updates.
//! - [`SharedVar::commit`] publishes several new values at one instant, holding the write
//!   locks of every cell involved together, and only if none of the cells the values were
//!   computed from changed since they were read. Otherwise nothing is written and the
//!   caller computes again from a fresh snapshot (optimistic concurrency: no update and no
//!   `set` is ever lost, and a call that retries does so because another one published).
//! - No lock is held while anything is computed: a call may run on a thread pool, and jobs
//!   that call the same function from that pool's workers cannot deadlock.

use crate::error::ValueError;
use crate::types::TensorType;
use crate::value::Tensor;
use std::any::Any;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// A named, typed, mutable value cell. Clones share the cell; equality is identity.
#[derive(Clone)]
pub struct SharedVar(Arc<SharedInner>);

struct SharedInner {
    name: String,
    ty: TensorType,
    cell: RwLock<Versioned>,
    /// Random draws built on this variable as their generator state so far.
    draws: AtomicU32,
    /// What a builder attaches to the variable: its default update (`Var::set_default_update`,
    /// which stores it so that the cell never owns a graph that owns the cell).
    attachment: Mutex<Option<Arc<dyn Any + Send + Sync>>>,
}

/// A value and the number of writes that came before it.
struct Versioned {
    value: Tensor,
    version: u64,
}

/// The values of several shared variables read at one instant (see
/// [`SharedVar::snapshot`]), with the version each was read at.
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// `(variable, value, version)`, in the order the variables were given.
    entries: Vec<(SharedVar, Tensor, u64)>,
}

impl Snapshot {
    /// The value read of the `k`-th variable given to `snapshot`.
    pub fn value(&self, k: usize) -> &Tensor {
        &self.entries[k].1
    }

    /// The values read, in the order the variables were given.
    pub fn values(&self) -> impl Iterator<Item = &Tensor> {
        self.entries.iter().map(|e| &e.1)
    }

    /// How many variables were read.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no variable was read.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl SharedVar {
    /// A cell of type `ty` (dtype of the value, any axis lengths of its rank) holding `value`.
    pub fn new(name: impl Into<String>, ty: TensorType, value: Tensor) -> Result<Self, ValueError> {
        check_fits(&ty, &value)?;
        Ok(SharedVar(Arc::new(SharedInner {
            name: name.into(),
            ty,
            cell: RwLock::new(Versioned { value, version: 0 }),
            draws: AtomicU32::new(0),
            attachment: Mutex::new(None),
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
        self.read().value.clone()
    }

    /// The stream number of the next random draw built on this variable as its generator
    /// state: 0, 1, 2, … in the order the draws are built (draws on one state read distinct
    /// Philox counters).
    pub fn next_stream(&self) -> u32 {
        self.0.draws.fetch_add(1, Ordering::Relaxed)
    }

    /// Attaches a value to the variable (or with `None` removes it): its default update, as
    /// `Var::set_default_update` stores it. It must not own this variable (no cycle).
    pub fn set_attachment(&self, value: Option<Arc<dyn Any + Send + Sync>>) {
        let old = std::mem::replace(&mut *self.0.attachment.lock().unwrap_or_else(|e| e.into_inner()), value);
        drop(old);
    }

    /// The value attached to the variable, if any.
    pub fn attachment(&self) -> Option<Arc<dyn Any + Send + Sync>> {
        self.0.attachment.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// How many times the value was written (by `set` or by a call's updates).
    pub fn version(&self) -> u64 {
        self.read().version
    }

    /// Replaces the value; on a wrong dtype or shape the old value stays and an error says why.
    pub fn set(&self, value: Tensor) -> Result<(), ValueError> {
        check_fits(&self.0.ty, &value)?;
        let old = {
            let mut cell = self.write();
            cell.version += 1;
            std::mem::replace(&mut cell.value, value)
        };
        drop(old); // freed outside the lock
        Ok(())
    }

    /// Reads the values of `vars` at one instant: no other call's updates are half seen.
    pub fn snapshot(vars: &[SharedVar]) -> Snapshot {
        let order = order_by_id(vars.iter());
        let guards: Vec<RwLockReadGuard<'_, Versioned>> = order.iter().map(|v| v.read()).collect();
        let mut read: Vec<Option<(Tensor, u64)>> = vec![None; vars.len()];
        for (v, g) in order.iter().zip(&guards) {
            for (k, w) in vars.iter().enumerate() {
                if w == *v {
                    read[k] = Some((g.value.clone(), g.version));
                }
            }
        }
        drop(guards);
        let entries = vars.iter().zip(read).map(|(v, r)| {
            let (t, version) = r.expect("every variable was read");
            (v.clone(), t, version)
        });
        Snapshot { entries: entries.collect() }
    }

    /// Publishes `writes` at one instant if no variable of `read` changed since it was read;
    /// returns false (and writes nothing) otherwise. Every value must fit its variable
    /// (checked first: a value that does not fit is an error and nothing is written). A
    /// variable written twice takes the last value.
    pub fn commit(read: &Snapshot, writes: Vec<(SharedVar, Tensor)>) -> Result<bool, ValueError> {
        // The replaced values drop here, outside the locks.
        Ok(SharedVar::commit_replacing(read, writes)?.is_some())
    }

    /// [`commit`](Self::commit), returning the values the writes replaced (in the order of
    /// `writes`) when it published, `None` when a variable read had changed. A caller that
    /// holds the only other reference to a replaced value may reuse its storage.
    pub fn commit_replacing(
        read: &Snapshot,
        writes: Vec<(SharedVar, Tensor)>,
    ) -> Result<Option<Vec<Tensor>>, ValueError> {
        for (v, t) in &writes {
            check_fits(&v.0.ty, t)?;
        }
        let (targets, values): (Vec<SharedVar>, Vec<Tensor>) = writes.into_iter().unzip();
        let order = order_by_id(read.entries.iter().map(|e| &e.0).chain(&targets));
        let mut guards: Vec<RwLockWriteGuard<'_, Versioned>> = order.iter().map(|v| v.write()).collect();
        let slot = |v: &SharedVar| order.iter().position(|o| *o == v).expect("locked");
        if read.entries.iter().any(|(v, _, version)| guards[slot(v)].version != *version) {
            return Ok(None);
        }
        let mut old = Vec::with_capacity(values.len());
        for (v, t) in targets.iter().zip(values) {
            let g = &mut guards[slot(v)];
            g.version += 1;
            old.push(std::mem::replace(&mut g.value, t));
        }
        drop(guards);
        Ok(Some(old))
    }

    /// A stable identity for hashing and printing.
    pub fn id(&self) -> usize {
        Arc::as_ptr(&self.0) as usize
    }

    fn read(&self) -> RwLockReadGuard<'_, Versioned> {
        self.0.cell.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Versioned> {
        self.0.cell.write().unwrap_or_else(|e| e.into_inner())
    }
}

/// The distinct variables of `vars` in the order of their ids: the one order in which every
/// reader and writer takes several locks, so none waits for another in a circle.
fn order_by_id<'a>(vars: impl Iterator<Item = &'a SharedVar>) -> Vec<&'a SharedVar> {
    let mut order: Vec<&SharedVar> = vars.collect();
    order.sort_by_key(|v| v.id());
    order.dedup_by_key(|v| v.id());
    order
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
