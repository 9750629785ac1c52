-- The sandbox every EVAL script runs in (src/script/engine.rs runs this
-- once per Lua state, with the real globals table and the table the engine
-- puts its per-run Rust functions in).
--
-- Valkey locks its tables inside a patched Lua VM. On the pristine Lua 5.1
-- we get the same behaviour from proxies: a script sees empty tables whose
-- metatable reads through to the real one and refuses every write with
-- "Attempt to modify a readonly table". rawset, setmetatable, rawget, next
-- and pairs are wrapped so that they neither bypass nor hide the locking.
local G, impl = ...

local rawget, rawset, type, error, tostring, select =
    rawget, rawset, type, error, tostring, select
local lua_setmetatable, lua_next, lua_pcall = setmetatable, next, pcall
local lua_loadstring, lua_load = loadstring, load

local READONLY = 'Attempt to modify a readonly table'
-- proxy -> the table it shows; every locked table (proxies and the views
-- getmetatable gives of their metatables).
local shows = lua_setmetatable({}, { __mode = 'k' })
local locked = lua_setmetatable({}, { __mode = 'k' })

local function deny()
    error(READONLY, 2)
end

-- A read-only proxy of `t`. getmetatable(proxy) gives a locked view whose
-- __index reads through the proxy, so the real table stays out of reach.
local function protect(t)
    local p, view = {}, {}
    lua_setmetatable(view, {
        __index = { __index = function(_, k) return p[k] end, __newindex = deny },
        __newindex = deny,
        __metatable = false,
    })
    local mt = { __index = t, __newindex = deny, __metatable = view }
    lua_setmetatable(p, mt)
    shows[p] = t
    locked[p] = true
    locked[view] = true
    return p, mt
end

-- Reading a global that does not exist is an error, as in Valkey.
lua_setmetatable(G, {
    __index = function(_, k)
        error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
    end,
})

G.setmetatable = function(t, mt)
    if locked[t] then error(READONLY, 2) end
    return lua_setmetatable(t, mt)
end
G.rawset = function(t, k, v)
    if locked[t] then error(READONLY, 0) end
    return rawset(t, k, v)
end
G.rawget = function(t, k)
    return rawget(shows[t] or t, k)
end
local function next_(t, k)
    return lua_next(shows[t] or t, k)
end
G.next = next_
G.pairs = function(t)
    return next_, t, nil
end

-- pcall gives the message of an error table, as Valkey's does (a failed
-- server.call raises {err = ...}).
local function caught(ok, ...)
    if ok then return ok, ... end
    local e = ...
    if type(e) == 'userdata' then return false, impl.errmsg(e) end
    if type(e) == 'table' then
        local m = rawget(e, 'err')
        if type(m) == 'string' or type(m) == 'number' then return false, m end
    end
    return false, e
end
G.pcall = function(...)
    return caught(lua_pcall(...))
end

-- No precompiled chunks: Lua 5.1 does not verify bytecode.
local BINARY = 'Binary code loading is not allowed'
G.loadstring = function(s, name)
    if type(s) == 'string' and s:byte(1) == 27 then return nil, BINARY end
    return lua_loadstring(s, name)
end
G.load = function(f, name)
    local first, binary = true, false
    local fn, err = lua_load(function()
        local piece = f()
        if first and type(piece) == 'string' and piece ~= '' then
            first = false
            if piece:byte(1) == 27 then
                binary = true
                return nil
            end
        end
        return piece
    end, name)
    if binary then return nil, BINARY end
    return fn, err
end

-- The server table (also named redis). Functions that raise errors are
-- Rust functions (impl.*): a Lua wrapper called as `return server.call(...)`
-- would be a tail call, and the error would lose the script's line.
local server = {}
for _, name in ipairs({ 'call', 'pcall', 'sha1hex', 'log', 'setresp', 'set_repl',
                        'acl_check_cmd', 'replicate_commands', 'breakpoint', 'debug' }) do
    server[name] = impl[name]
end

local function err_table(msg)
    return { err = msg }
end

-- Valkey's luaPushErrorBuff: "-CODE msg" keeps its code, anything else
-- gets ERR; trailing CR/LF go.
local function error_text(s)
    if s:sub(1, 1) == '-' then
        local sp = s:find(' ', 1, true)
        if sp then
            s = s:sub(2, sp - 1) .. ' ' .. s:sub(sp + 1)
        else
            s = 'ERR ' .. s:sub(2)
        end
    else
        s = 'ERR ' .. s
    end
    return (s:gsub('[\r\n]+$', ''))
end

server.error_reply = function(...)
    local s = ...
    if select('#', ...) ~= 1 or type(s) ~= 'string' then
        return err_table('ERR wrong number or type of arguments')
    end
    if s:sub(1, 1) ~= '-' then s = '-' .. s end
    return err_table(error_text(s))
end
server.status_reply = function(...)
    local s = ...
    if select('#', ...) ~= 1 or type(s) ~= 'string' then
        return err_table('ERR wrong number or type of arguments')
    end
    return { ok = s }
end
server.LOG_DEBUG, server.LOG_VERBOSE, server.LOG_NOTICE, server.LOG_WARNING = 0, 1, 2, 3
server.REPL_NONE, server.REPL_AOF, server.REPL_SLAVE, server.REPL_REPLICA, server.REPL_ALL =
    0, 1, 2, 2, 3

-- Lock the libraries, the string metatable and the globals themselves.
for _, name in ipairs({ 'string', 'table', 'math', 'os', 'coroutine', 'cjson', 'cmsgpack', 'bit', 'struct' }) do
    local t = rawget(G, name)
    if t then rawset(G, name, protect(t)) end
end
local smt = getmetatable('')
smt.__index = rawget(G, 'string')
smt.__metatable = protect({ __index = rawget(G, 'string') })
local env, env_mt = protect(G)
local srv = protect(server)
rawset(G, 'server', srv)
rawset(G, 'redis', srv)
rawset(G, '_G', env)
-- What the globals read through to: the real globals, or (while a function
-- library loads) the library API alone, as Valkey switches them.
local function set_api(t)
    env_mt.__index = t
    shows[env] = t
end

-- A table whose missing keys are the nonexistent-global error (the library
-- API's globals).
local function strict(t)
    return lua_setmetatable(t, getmetatable(G))
end

return server, env, protect, set_api, strict
