//! `NodeMap` and `NodeSet`: values and marks indexed by node id, for rules that walk
//! thousands of nodes (fusion). Clearing moves to a new epoch instead of touching the
//! storage, so one allocation serves a whole phase and every lookup is an array read, not a
//! hash probe into a table that outgrows the cache.

use tensorlift_ir::NodeId;

/// A map from node ids to `T`, cleared in O(1).
#[derive(Clone, Debug, Default)]
pub struct NodeMap<T> {
    /// The epoch in which each slot was last written; a slot of an older epoch is empty.
    stamp: Vec<u32>,
    value: Vec<T>,
    epoch: u32,
}

/// A set of node ids, cleared in O(1).
pub type NodeSet = NodeMap<()>;

impl<T: Copy + Default> NodeMap<T> {
    /// Empties the map, with room for ids below `len`.
    pub fn clear(&mut self, len: usize) {
        if self.epoch == u32::MAX {
            self.stamp.fill(0);
            self.epoch = 0;
        }
        self.epoch += 1;
        self.grow(len);
    }

    fn grow(&mut self, len: usize) {
        if self.stamp.len() < len {
            self.stamp.resize(len, 0);
            self.value.resize(len, T::default());
        }
    }

    /// The value of `id`, if it has one.
    pub fn get(&self, id: NodeId) -> Option<T> {
        (self.epoch > 0 && self.stamp.get(id.index()) == Some(&self.epoch)).then(|| self.value[id.index()])
    }

    /// True when `id` has a value.
    pub fn contains(&self, id: NodeId) -> bool {
        self.get(id).is_some()
    }

    /// Sets the value of `id`; returns the one it had.
    pub fn insert(&mut self, id: NodeId, v: T) -> Option<T> {
        if self.epoch == 0 {
            self.clear(0);
        }
        let old = self.get(id);
        self.grow(id.index() + 1);
        self.stamp[id.index()] = self.epoch;
        self.value[id.index()] = v;
        old
    }
}

/// The working storage of one phase, lent to every rule application.
#[derive(Clone, Debug, Default)]
pub struct Scratch {
    /// The nodes of the cluster being fused.
    pub cluster: NodeSet,
    /// Nodes visited by the current walk.
    pub visited: NodeSet,
    /// The value number of each node in the program being built.
    pub values: NodeMap<u32>,
    /// How many times the cluster being grown reads each outside value.
    pub reads: NodeMap<u32>,
    /// The symbolic shape of each node whose shape was asked for (`Rw::shape_of`).
    pub shapes: rustc_hash::FxHashMap<NodeId, crate::symbolic::SymShape>,
    /// Whether the graph is one scalar program (lowering; `None` until asked).
    pub scalar_graph: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A side-table key: the id of arena position `i` (no graph needed).
    fn id(i: usize) -> NodeId {
        NodeId::from_index(i).expect("a small index")
    }

    #[test]
    fn clearing_forgets_and_ids_beyond_the_length_work() {
        let mut m: NodeMap<u32> = NodeMap::default();
        assert_eq!(m.get(id(3)), None);
        m.clear(4);
        assert_eq!(m.insert(id(3), 7), None);
        assert_eq!(m.insert(id(3), 8), Some(7));
        assert_eq!(m.insert(id(10), 1), None);
        assert_eq!((m.get(id(3)), m.get(id(10)), m.get(id(2))), (Some(8), Some(1), None));
        m.clear(4);
        assert!(!m.contains(id(3)) && !m.contains(id(10)));
        m.epoch = u32::MAX;
        m.clear(4);
        assert!(!m.contains(id(3)));
        m.insert(id(0), 5);
        assert_eq!(m.get(id(0)), Some(5));
    }
}
