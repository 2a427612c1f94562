//! Planning a case's calls: every exported function, a few times, with edge-biased arguments.

use crate::edge::edge_value;
use crate::engine::Val;
use crate::fuzz::rng::Rng;

/// One planned call.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    pub export: String,
    pub args: Vec<Val>,
}

/// Calls per exported function.
pub const CALLS_PER_EXPORT: usize = 3;
/// At most this many calls per case.
pub const MAX_CALLS: usize = 60;

/// The exported functions of `wasm` with their parameter types, in export order.
pub fn exported_funcs(wasm: &[u8]) -> Result<Vec<(String, Vec<wasmparser::ValType>)>, String> {
    use wasmparser::{Payload, TypeRef};
    let mut types: Vec<Option<Vec<wasmparser::ValType>>> = Vec::new();
    // Each type's abstract supertype (func, struct or array), to resolve concrete references.
    let mut tops: Vec<wasmparser::AbstractHeapType> = Vec::new();
    let mut funcs: Vec<u32> = Vec::new();
    let mut exports = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        match payload.map_err(|e| e.to_string())? {
            Payload::TypeSection(r) => {
                for group in r {
                    for ty in group.map_err(|e| e.to_string())?.into_types() {
                        use wasmparser::{AbstractHeapType as A, CompositeInnerType as C};
                        tops.push(match &ty.composite_type.inner {
                            C::Struct(_) => A::Struct,
                            C::Array(_) => A::Array,
                            _ => A::Func,
                        });
                        types.push(match &ty.composite_type.inner {
                            wasmparser::CompositeInnerType::Func(f) => Some(f.params().to_vec()),
                            _ => None,
                        });
                    }
                }
            }
            Payload::ImportSection(r) => {
                for imp in r.into_imports() {
                    if let TypeRef::Func(t) = imp.map_err(|e| e.to_string())?.ty {
                        funcs.push(t);
                    }
                }
            }
            Payload::FunctionSection(r) => {
                for t in r {
                    funcs.push(t.map_err(|e| e.to_string())?);
                }
            }
            Payload::ExportSection(r) => {
                for e in r {
                    let e = e.map_err(|e| e.to_string())?;
                    if e.kind == wasmparser::ExternalKind::Func {
                        exports.push((e.name.to_string(), e.index));
                    }
                }
            }
            _ => {}
        }
    }
    exports
        .into_iter()
        .map(|(name, f)| {
            let params = funcs
                .get(f as usize)
                .and_then(|&t| types.get(t as usize).cloned().flatten())
                .ok_or_else(|| format!("export {name:?}: no function type"))?;
            let params = params.into_iter().map(|t| resolve(t, &tops)).collect();
            Ok((name, params))
        })
        .collect()
}

/// `t` with a concrete heap type replaced by its abstract supertype (nullability kept): all an
/// argument needs to know ([`crate::edge::edge_ref`]).
fn resolve(t: wasmparser::ValType, tops: &[wasmparser::AbstractHeapType]) -> wasmparser::ValType {
    use wasmparser::{HeapType, RefType, ValType};
    match t {
        ValType::Ref(r) => match r.heap_type() {
            HeapType::Concrete(i) | HeapType::Exact(i) => {
                let top = i
                    .as_module_index()
                    .and_then(|i| tops.get(i as usize))
                    .copied()
                    .unwrap_or(wasmparser::AbstractHeapType::Func);
                let heap = HeapType::Abstract {
                    shared: false,
                    ty: top,
                };
                RefType::new(r.is_nullable(), heap).map_or(t, ValType::Ref)
            }
            _ => t,
        },
        t => t,
    }
}

/// The calls of a case: [`CALLS_PER_EXPORT`] per exported function, arguments drawn from a seed
/// derived from `seed` and the export's name, so removing other exports (shrinking) keeps them.
pub fn plan(wasm: &[u8], seed: u64) -> Result<Vec<Call>, String> {
    let funcs = exported_funcs(wasm)?;
    let mut calls = Vec::new();
    // A function with a parameter the host cannot make (a non-null struct, say) is not called.
    let callable = |params: &[wasmparser::ValType]| {
        params.iter().all(|t| match t {
            wasmparser::ValType::Ref(r) => crate::edge::host_can_make(*r),
            _ => true,
        })
    };
    for round in 0..CALLS_PER_EXPORT {
        for (name, params) in funcs.iter().filter(|(_, p)| callable(p)) {
            let mut rng = Rng::new(seed ^ crate::fuzz::rng::hash_str(name) ^ round as u64);
            calls.push(Call {
                export: name.clone(),
                args: params.iter().map(|t| edge_value(&mut rng, *t)).collect(),
            });
        }
    }
    calls.truncate(MAX_CALLS);
    Ok(calls)
}
