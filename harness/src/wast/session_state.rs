//! One engine's state while a file runs: its session, the script's named modules and instances,
//! and the session-level operations directives are made of (define a module, instantiate,
//! invoke, read a global).

use std::collections::HashMap;

use super::directives::{Exec, Invoke, ModuleSource};
use super::results::Outcome;
use crate::engine::{InstanceId, InstantiateError, InvokeError, ModuleId, Session, Val};

/// Per-engine state while a file runs.
pub(super) struct EngineState {
    pub(super) session: Option<Box<dyn Session>>,
    /// Why the session is gone.
    pub(super) dead: Option<String>,
    pub(super) current: Option<InstanceId>,
    pub(super) instances: HashMap<String, InstanceId>,
    pub(super) modules: HashMap<String, ModuleId>,
    pub(super) last_module: Option<ModuleId>,
}

/// `module` (instantiated) or `module definition`: compile, name, and maybe instantiate.
pub(super) fn define_module(
    state: &mut EngineState,
    name: Option<&str>,
    module: &ModuleSource,
    instantiate: bool,
) -> Outcome {
    if instantiate {
        state.current = None;
    }
    if let Some(n) = name {
        state.instances.remove(n);
        state.modules.remove(n);
    }
    let bytes = match module {
        ModuleSource::Bytes(b) => b,
        ModuleSource::TextError(e) => {
            return Outcome::Fail(format!("the module does not encode: {e}"));
        }
    };
    let mid = match session(state).compile(bytes) {
        Ok(m) => m,
        Err(e) => return Outcome::Fail(format!("compilation failed: {e}")),
    };
    state.last_module = Some(mid);
    if let Some(n) = name {
        state.modules.insert(n.to_string(), mid);
    }
    if !instantiate {
        return Outcome::pass();
    }
    instantiate_as(state, mid, name)
}

/// Instantiate `mid`, make the instance current and give it `name`.
fn instantiate_as(state: &mut EngineState, mid: ModuleId, name: Option<&str>) -> Outcome {
    match session(state).instantiate(mid) {
        Ok(iid) => {
            state.current = Some(iid);
            if let Some(n) = name {
                state.instances.insert(n.to_string(), iid);
            }
            Outcome::pass()
        }
        Err(e) => Outcome::Fail(format!("instantiation failed: {e}")),
    }
}

/// `module instance $I $M`: instantiate the definition `$M` (the last module when unnamed),
/// making it current and naming it `$I`.
pub(super) fn instantiate_definition(
    state: &mut EngineState,
    instance: Option<&str>,
    module: Option<&str>,
) -> Outcome {
    let mid = match module {
        Some(m) => state.modules.get(m).copied(),
        None => state.last_module,
    };
    let Some(mid) = mid else {
        return Outcome::Fail(format!(
            "no module definition {}",
            module.map_or("(last)".to_string(), |m| format!("${m}"))
        ));
    };
    state.current = None;
    instantiate_as(state, mid, instance)
}

/// Why a call directive did not return values.
pub(super) enum ExecError {
    /// The engine ran the call and it did not return normally.
    Invoke(InvokeError),
    /// The call could not be made (no such module, compile or link failure, ...).
    Other(String),
}

pub(super) fn session(state: &mut EngineState) -> &mut dyn Session {
    state
        .session
        .as_deref_mut()
        .expect("a live engine state has a session")
}

pub(super) fn instance(state: &EngineState, module: Option<&str>) -> Result<InstanceId, String> {
    match module {
        Some(m) => state
            .instances
            .get(m)
            .copied()
            .ok_or_else(|| format!("no instance named ${m}")),
        None => state
            .current
            .ok_or_else(|| "no current module instance".to_string()),
    }
}

pub(super) fn run_exec(state: &mut EngineState, exec: &Exec) -> Result<Vec<Val>, ExecError> {
    match exec {
        Exec::Invoke(Invoke { module, name, args }) => {
            let iid = instance(state, module.as_deref()).map_err(ExecError::Other)?;
            let args = args.as_ref().map_err(|e| ExecError::Other(e.clone()))?;
            session(state)
                .invoke(iid, name, args)
                .map_err(ExecError::Invoke)
        }
        Exec::Get { module, global } => {
            let iid = instance(state, module.as_deref()).map_err(ExecError::Other)?;
            session(state)
                .get_global(iid, global)
                .map(|v| vec![v])
                .map_err(ExecError::Other)
        }
        Exec::Instantiate(module) => {
            let bytes = match module {
                ModuleSource::Bytes(b) => b,
                ModuleSource::TextError(e) => {
                    return Err(ExecError::Other(format!("the module does not encode: {e}")));
                }
            };
            let s = session(state);
            let mid = s
                .compile(bytes)
                .map_err(|e| ExecError::Other(format!("compilation failed: {e}")))?;
            match s.instantiate(mid) {
                Ok(_) => Ok(vec![]),
                Err(InstantiateError::Trap(t)) => Err(ExecError::Invoke(InvokeError::Trap(t))),
                Err(e) => Err(ExecError::Other(format!("instantiation failed: {e}"))),
            }
        }
    }
}
