//! The instruction-count hook that keeps a long script interruptible:
//! every `HOOK_EVERY` Lua instructions it asks the host
//! (`Host::interrupt`) whether to go on. The host times the script out,
//! serves the other clients meanwhile, and answers with the error to end
//! the script with once SCRIPT KILL or FUNCTION KILL asked for it.
//!
//! The hook is set once for the state (a global hook, so coroutines a
//! script makes have it too) and reaches the host through `imp.run_interrupt`,
//! a function each run sets for its own time (as it does `run_call`). Once
//! a script is killed the hook fires on every line and raises the error
//! again each time, as Valkey's does, so that a `pcall` in the script
//! cannot keep it alive; after the run the count hook is back.

use std::cell::RefCell;
use std::rc::Rc;

use mlua::debug::Debug;
use mlua::{HookTriggers, Lua, Table, Value, VmState};

use super::engine::Raised;

/// Lua instructions between two calls of the hook (Valkey's count: the
/// check costs nothing measurable at that rate).
pub const HOOK_EVERY: u32 = 100_000;

/// Where a run puts its function that reaches `Host::interrupt` (in `imp`).
pub(super) const RUN_INTERRUPT: &str = "run_interrupt";

/// What the hook remembers across its calls.
#[derive(Default)]
pub(super) struct HookState {
    /// The error of a killed script, raised at every line until it ends.
    kill: RefCell<Option<String>>,
}

/// Sets the count hook on `lua`, for good.
pub(super) fn install(lua: &Lua, imp: &Table, st: &Rc<HookState>) -> mlua::Result<()> {
    set(
        lua,
        imp,
        st,
        HookTriggers::new().every_nth_instruction(HOOK_EVERY),
    )
}

fn set(lua: &Lua, imp: &Table, st: &Rc<HookState>, triggers: HookTriggers) -> mlua::Result<()> {
    let imp = imp.clone();
    let st = st.clone();
    lua.set_global_hook(triggers, move |lua, debug| on_hook(lua, debug, &imp, &st))
}

/// The kill error is raised from the script's own code only, never from
/// the prelude's Lua (its `pcall` wrapper): Valkey's helpers are C
/// functions, which hooks never stop in, so a script's `pcall` that
/// catches the kill returns before the error comes again.
fn in_prelude(debug: &Debug) -> bool {
    debug.source().source.as_deref() == Some("=ferrokey")
}

fn on_hook(lua: &Lua, debug: &Debug, imp: &Table, st: &Rc<HookState>) -> mlua::Result<VmState> {
    if let Some(msg) = st.kill.borrow().as_ref() {
        if in_prelude(debug) {
            return Ok(VmState::Continue);
        }
        return Err(mlua::Error::external(Raised(msg.clone())));
    }
    // No run: instructions outside a script (the prelude, a library load).
    let Value::Function(interrupt) = imp.raw_get::<Value>(RUN_INTERRUPT)? else {
        return Ok(VmState::Continue);
    };
    let Some(msg) = interrupt.call::<Option<String>>(())? else {
        return Ok(VmState::Continue);
    };
    tracing::info!("<module> {}", msg.strip_prefix("ERR ").unwrap_or(&msg));
    *st.kill.borrow_mut() = Some(msg.clone());
    set(lua, imp, st, HookTriggers::EVERY_LINE)?;
    if in_prelude(debug) {
        return Ok(VmState::Continue);
    }
    Err(mlua::Error::external(Raised(msg)))
}

/// After a run: forgets a kill and puts the count hook back.
pub(super) fn after_run(lua: &Lua, imp: &Table, st: &Rc<HookState>) {
    if st.kill.borrow_mut().take().is_some() {
        if let Err(e) = install(lua, imp, st) {
            tracing::warn!("Restoring the script hook: {e}");
        }
    }
}
