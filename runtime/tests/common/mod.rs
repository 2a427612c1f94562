//! Helpers shared by the runtime's integration tests.

use lockstep_runtime::{Engine, Extern, Instance, Module, Store};

/// Compile `wat` on `engine` and instantiate it with `imports` in a fresh store.
pub fn setup(engine: &Engine, wat: &str, imports: &[Extern]) -> (Store<()>, Instance) {
    let module = Module::new(engine, wat).unwrap();
    let mut store = Store::new(engine, ());
    let inst = Instance::new(&mut store, &module, imports).unwrap();
    (store, inst)
}
