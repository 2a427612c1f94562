//! The instances a session has made and the names a script registered them under. Every adapter
//! keeps the same bookkeeping whatever its engine's instance handle is, so it lives here once.

use std::collections::HashMap;

use crate::engine::InstanceId;

/// Instances in the order they were made (an [`InstanceId`] is an index) and the registered names.
pub(crate) struct Instances<I> {
    made: Vec<I>,
    registered: HashMap<String, I>,
}

impl<I: Clone> Instances<I> {
    pub(crate) fn new() -> Self {
        Instances {
            made: Vec::new(),
            registered: HashMap::new(),
        }
    }

    /// Keep a new instance; its id is the next index.
    pub(crate) fn push(&mut self, instance: I) -> InstanceId {
        self.made.push(instance);
        InstanceId(self.made.len() as u32 - 1)
    }

    pub(crate) fn get(&self, id: InstanceId) -> Result<I, String> {
        self.made
            .get(id.0 as usize)
            .cloned()
            .ok_or_else(|| format!("no instance {}", id.0))
    }

    /// Register `id` under `name` for later imports; an unknown id registers nothing.
    pub(crate) fn register(&mut self, name: &str, id: InstanceId) {
        if let Ok(instance) = self.get(id) {
            self.registered.insert(name.to_string(), instance);
        }
    }

    /// The instance registered under `name`.
    pub(crate) fn registered(&self, name: &str) -> Option<&I> {
        self.registered.get(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_index_instances_and_unknown_ids_register_nothing() {
        let mut instances = Instances::new();
        assert_eq!(instances.push('a'), InstanceId(0));
        assert_eq!(instances.push('b'), InstanceId(1));
        assert_eq!(instances.get(InstanceId(1)), Ok('b'));
        assert_eq!(
            instances.get(InstanceId(2)),
            Err("no instance 2".to_string())
        );
        instances.register("m", InstanceId(0));
        instances.register("n", InstanceId(7));
        assert_eq!(instances.registered("m"), Some(&'a'));
        assert_eq!(instances.registered("n"), None);
    }
}
