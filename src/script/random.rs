//! Valkey's `math.random` and `math.randomseed`: Lua's own functions with
//! the C library's `rand()` replaced by the rand48 generator, so a seed gives
//! the same sequence on every platform.
//!
//! The generator is the 48-bit LCG of `lrand48` (x' = 0x5DEECE66D·x + 0xB
//! mod 2^48, output the top 31 bits). Valkey keeps one generator for the
//! whole process, never seeds it at start-up (its power-on state is rand48's
//! default) and never resets it between scripts, so successive `EVAL`s see
//! fresh numbers and `math.randomseed` persists. Scripts run on the main
//! thread, so a thread-local generator is that process-wide one (and keeps
//! tests on different threads apart).
//!
//! Like the other libraries these are Lua C functions (see `bit`), so their
//! errors are Lua's own strings ("bad argument #1 to 'random' (interval is
//! empty)").

use std::cell::Cell;
use std::ffi::c_int;

use mlua::ffi::{self, lua_State};
use mlua::{Lua, Table};

/// rand48's state before any seeding (X2:X1:X0 = 0x1234:0xABCD:0x330E).
const POWER_ON_STATE: u64 = 0x1234_ABCD_330E;
const MULTIPLIER: u64 = 0x5_DEEC_E66D;
const INCREMENT: u64 = 0xB;
const STATE_MASK: u64 = (1 << 48) - 1;
/// Valkey's REDIS_LRAND48_MAX: the output range bound, INT32_MAX.
const LRAND48_MAX: i32 = i32::MAX;

thread_local! {
    static STATE: Cell<u64> = const { Cell::new(POWER_ON_STATE) };
}

/// Replaces `random` and `randomseed` in `math` (the script's `math`
/// table) with Valkey's versions.
pub fn install(lua: &Lua, math: &Table) -> mlua::Result<()> {
    // SAFETY: both functions follow the Lua C API protocol and only read
    // their own arguments.
    math.set("random", unsafe { lua.create_c_function(math_random)? })?;
    math.set("randomseed", unsafe {
        lua.create_c_function(math_randomseed)?
    })?;
    Ok(())
}

/// Seeds this thread's generator as `math.randomseed(seed)` does (srand48:
/// the seed becomes the high 32 bits, the low 16 are 0x330E).
pub fn seed(seed: i32) {
    STATE.with(|state| state.set((u64::from(seed as u32) << 16) | 0x330E));
}

/// Puts this thread's generator back in its power-on state, the state a
/// freshly started Valkey has.
pub fn reset() {
    STATE.with(|state| state.set(POWER_ON_STATE));
}

/// lrand48: advances the generator and returns its top 31 bits.
fn next() -> i32 {
    STATE.with(|state| {
        let x = state.get().wrapping_mul(MULTIPLIER).wrapping_add(INCREMENT) & STATE_MASK;
        state.set(x);
        // 31 bits: always fits.
        (x >> 17) as i32
    })
}

/// luaL_checkint: the argument as lua_Integer, then C's `(int)` cast.
unsafe fn check_int(state: *mut lua_State, idx: c_int) -> i32 {
    ffi::luaL_checkinteger(state, idx) as i32
}

/// `random()` in [0,1), `random(u)` in [1,u], `random(l,u)` in [l,u]. The
/// generator advances before the arguments are checked, as in Valkey.
unsafe extern "C-unwind" fn math_random(state: *mut lua_State) -> c_int {
    let r = f64::from(next() % LRAND48_MAX) / f64::from(LRAND48_MAX);
    match ffi::lua_gettop(state) {
        0 => ffi::lua_pushnumber(state, r),
        1 => {
            let upper = check_int(state, 1);
            if upper < 1 {
                ffi::luaL_argerror(state, 1, c"interval is empty".as_ptr());
            }
            ffi::lua_pushnumber(state, (r * f64::from(upper)).floor() + 1.0);
        }
        2 => {
            let lower = check_int(state, 1);
            let upper = check_int(state, 2);
            if lower > upper {
                ffi::luaL_argerror(state, 2, c"interval is empty".as_ptr());
            }
            // C int arithmetic: u-l+1 wraps for the widest intervals, and
            // Valkey returns what the wrapped span gives.
            let span = upper.wrapping_sub(lower).wrapping_add(1);
            ffi::lua_pushnumber(state, (r * f64::from(span)).floor() + f64::from(lower));
        }
        _ => {
            ffi::luaL_error(state, c"wrong number of arguments".as_ptr());
        }
    }
    1
}

unsafe extern "C-unwind" fn math_randomseed(state: *mut lua_State) -> c_int {
    seed(check_int(state, 1));
    0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::bit::transcript;

    /// Captured from Valkey 9.1.2 (`EVAL` of the wrapped snippet).
    const CASES: &[(&str, &str)] = &[
        (
            r#"math.randomseed(10) return tostring(math.random()), tostring(math.random()), tostring(math.random())"#,
            r#"s:0.87885112309775 s:0.7958066229689 s:0.48082728100979"#,
        ),
        (
            r#"math.randomseed(20) return tostring(math.random())"#,
            r#"s:0.58687420961767"#,
        ),
        (
            r#"math.randomseed('10') return tostring(math.random())"#,
            r#"s:0.87885112309775"#,
        ),
        (
            r#"math.randomseed(0) return math.random(), math.random(), math.random(10), math.random(10), math.random(5, 7), math.random(-3, 3)"#,
            r#"number:0.17082803611217 number:0.74990198051087 number:1 number:9 number:6 number:2"#,
        ),
        (
            r#"math.randomseed(-1) return math.random(), math.random(1000000)"#,
            r#"number:0.30002572727391 number:45312"#,
        ),
        (
            r#"math.randomseed(2^31) return math.random(), math.random(100)"#,
            r#"number:0.670828036345 number:25"#,
        ),
        (
            r#"math.randomseed(2^32 + 5) return math.random()"#,
            r#"number:0.52483957937213"#,
        ),
        (
            r#"math.randomseed(7.9) return math.random()"#,
            r#"number:0.26644419658298"#,
        ),
        (
            r#"math.randomseed(-7.9) return math.random()"#,
            r#"number:0.07521187517569"#,
        ),
        (
            r#"math.randomseed(1e300) return math.random()"#,
            r#"number:0.17082803611217"#,
        ),
        (
            r#"math.randomseed(0/0) return math.random()"#,
            r#"number:0.17082803611217"#,
        ),
        (
            r#"math.randomseed(123456789) local t = {} for i = 1, 20 do t[i] = math.random(1, 6) end return table.concat(t, ',')"#,
            r#"s:1,1,1,3,2,5,4,1,6,4,2,5,5,4,5,1,4,1,5,1"#,
        ),
        (
            r#"math.randomseed(42) local t = {} for i = 1, 8 do t[i] = string.format('%.17g', math.random()) end return table.concat(t, ',')"#,
            r#"s:0.74452500033403046,0.34270147855519384,0.11108528222473585,0.42233895809498567,0.081111170854936895,0.85644070797434113,0.49879942205678646,0.47881429059375741"#,
        ),
        (
            r#"math.randomseed(1) return math.random(1), math.random(2147483647), math.random(-2147483648, 2147483647), math.random(2147483647, 2147483647), math.random(-5, -5)"#,
            r#"number:1 number:976015094 number:-2147483648 number:2147483647 number:-5"#,
        ),
        (
            r#"math.randomseed(1) return math.random(3.9), math.random(1.5, 2.5), math.random('4'), math.random(-2^31, 2^31 - 1)"#,
            r#"number:1 number:1 number:4 number:-2147483648"#,
        ),
        (
            r#"math.randomseed(3) return math.random(-2147483648, 0), math.random(0, 2147483647), math.random(-2147483647, 2147483647)"#,
            r#"number:-3829467921 number:-1854724447 number:-2147483648"#,
        ),
        (
            r#"return math.random(0)"#,
            r#"ERR user_script:3: bad argument #1 to 'random' (interval is empty)"#,
        ),
        (
            r#"return math.random(-1)"#,
            r#"ERR user_script:3: bad argument #1 to 'random' (interval is empty)"#,
        ),
        (
            r#"return math.random(5, 4)"#,
            r#"ERR user_script:3: bad argument #2 to 'random' (interval is empty)"#,
        ),
        (
            r#"return math.random(1, 2, 3)"#,
            r#"ERR user_script:3: wrong number of arguments"#,
        ),
        (
            r#"return math.random('x')"#,
            r#"ERR user_script:3: bad argument #1 to 'random' (number expected, got string)"#,
        ),
        (
            r#"return math.random(1, 'x')"#,
            r#"ERR user_script:3: bad argument #2 to 'random' (number expected, got string)"#,
        ),
        (
            r#"return math.random(nil)"#,
            r#"ERR user_script:3: bad argument #1 to 'random' (number expected, got nil)"#,
        ),
        (
            r#"return math.random(1, nil)"#,
            r#"ERR user_script:3: bad argument #2 to 'random' (number expected, got nil)"#,
        ),
        (
            r#"return math.random({})"#,
            r#"ERR user_script:3: bad argument #1 to 'random' (number expected, got table)"#,
        ),
        (
            r#"return math.random(2^32)"#,
            r#"ERR user_script:3: bad argument #1 to 'random' (interval is empty)"#,
        ),
        (
            r#"return math.random(0/0)"#,
            r#"ERR user_script:3: bad argument #1 to 'random' (interval is empty)"#,
        ),
        (
            r#"return math.randomseed()"#,
            r#"ERR user_script:3: bad argument #1 to 'randomseed' (number expected, got no value)"#,
        ),
        (
            r#"return math.randomseed('x')"#,
            r#"ERR user_script:3: bad argument #1 to 'randomseed' (number expected, got string)"#,
        ),
        (
            r#"return math.randomseed(nil)"#,
            r#"ERR user_script:3: bad argument #1 to 'randomseed' (number expected, got nil)"#,
        ),
        (
            r#"return math.randomseed(1, 2), math.randomseed(3)"#,
            r#"nil:nil"#,
        ),
        (
            r#"return pcall(math.random, 0)"#,
            r#"boolean:false s:bad argument #1 to '?' (interval is empty)"#,
        ),
        (
            r#"math.randomseed(5) local r = math.random local a = r() math.randomseed(5) return a == r(), tostring(a)"#,
            r#"boolean:true s:0.52483957937213"#,
        ),
        (
            r#"math.randomseed(99) local ok, e = pcall(math.random, 0) return tostring(math.random()), e"#,
            r#"s:0.50435794075223 s:bad argument #1 to '?' (interval is empty)"#,
        ),
        (
            r#"math.randomseed(99) math.random() return tostring(math.random())"#,
            r#"s:0.50435794075223"#,
        ),
    ];

    #[test]
    fn matches_valkey_transcript() {
        transcript::check(CASES);
    }

    /// A fresh Valkey's first `math.random()` (no seeding at start-up), and
    /// the sequence goes on across scripts instead of restarting.
    #[test]
    fn power_on_state_and_no_reset_between_scripts() {
        reset();
        let lua = transcript::lua();
        let first = transcript::run(&lua, "return tostring(math.random())");
        assert_eq!(first, "s:0.39646477363839");
        let second = transcript::run(&lua, "return tostring(math.random())");
        assert_ne!(second, first);
        // A second Lua state on the same thread shares the generator.
        let other = transcript::lua();
        let third = transcript::run(&other, "return tostring(math.random())");
        assert_ne!(third, second);
        assert_ne!(third, first);
    }

    /// The "Scripting engine PRNG can be seeded correctly" test of
    /// unit/scripting.tcl (ARGV[1] arrives as a string).
    #[test]
    fn seeded_from_a_string_argument() {
        let lua = transcript::lua();
        let script = |s: &str| format!("math.randomseed('{s}') return tostring(math.random())");
        let one = transcript::run(&lua, &script("10"));
        assert_eq!(one, transcript::run(&lua, &script("10")));
        assert_ne!(one, transcript::run(&lua, &script("20")));
    }

    /// `seed` from Rust is `math.randomseed` from a script.
    #[test]
    fn rust_seed_matches_script_seed() {
        let lua = transcript::lua();
        seed(10);
        assert_eq!(
            transcript::run(&lua, "return tostring(math.random())"),
            "s:0.87885112309775"
        );
    }
}
