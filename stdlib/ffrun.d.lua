---@meta
-- ffrun.d.lua: LuaLS annotations for what a runbook sees (SPEC §4, §5).
-- Never loaded by ffrun: it only tells editors what exists, so runbooks
-- get completion and type checks. Add this folder to the editor's
-- `workspace.library`, and set `runtime.version = "Lua 5.4"` and
-- `runtime.builtin = { io = "disable", package = "disable", debug = "disable" }`
-- so the libraries the sandbox withholds are flagged there too.
--
-- Globals a runbook has (everything else is absent):
--   assert error ipairs next pairs pcall select tonumber tostring type
--   xpcall rawequal rawlen rawget rawset setmetatable getmetatable
--   print require _G _VERSION, and with sandbox rules:
--     collectgarbage  "count" only
--     load(text, name, mode, env)  source text only; env is required
--     setmetatable    no __gc, and a protected metatable cannot change
--     rawset          refused on protected tables
--     print           goes to the run's log
--     require "a.b"   a/b.lua from the runbook's folder, then stdlib/
--   string (without dump), table, math, utf8, coroutine,
--   os.time os.clock os.date (no other os function), and ff.
-- Reading a withheld name (io, package, debug, dofile, loadfile, os.getenv,
-- string.dump, ...) is a sandbox violation, not a nil.
--
-- `ff` and every table inside it cannot be modified: an assignment or a
-- rawset on them is a sandbox violation, a setmetatable an error. The same
-- holds for string, table, math, utf8, coroutine and os, and the strings'
-- metatable is hidden (getmetatable("") is false).
--
-- A sandbox violation (a path outside the jail, '..', a symlink, a program
-- not in exec.allow, a modified `ff`) ends the run with exit 3; pcall cannot
-- swallow it. Operational failures a runbook may branch on return
-- `nil, message` where noted; other errors raise and fail the step.
--
-- Read: runs in every mode. Write: in --dry-run it is planned (printed, and
-- kept in the evidence's "plan"), not done, and returns a stand-in (true
-- unless said otherwise); paths and programs are still checked.
--
-- A runbook returns its header; annotate it with `---@type FfRunbook`.

------------------------------------------------------------------------------
-- The runbook contract (host/vm/runbook.c)
------------------------------------------------------------------------------

---@alias FfParamType "string"|"integer"|"number"|"boolean"|"dir"

---The table a runbook returns.
---@class FfRunbook
---@field name string lower-case letters, digits, `-` and `_`
---@field version string
---@field summary string one line, shown by --describe
---@field params? FfParam[] given on the command line as NAME=VALUE
---@field steps FfStep[] run in order; the first failure skips the rest but cleanup steps

---One parameter of a runbook.
---@class FfParam
---@field name string the NAME of NAME=VALUE and the key in the params table
---@field doc string shown by --describe and in "required" errors
---@field type? FfParamType default "string"; "dir" is the real path of an existing folder, which becomes readable (read-only)
---@field default? string|integer|number|boolean used when not given
---@field required? boolean an error when neither given nor defaulted
---@field choices? any[] the (typed) value must equal one of these
---@field check? fun(value: any): any, string? return true, or nil and why the value is refused

---Params as the steps get them: each given or defaulted param by name, typed.
---@alias FfParams table<string, string|integer|number|boolean>

---One step of a runbook.
---@class FfStep
---@field name string unique within the runbook
---@field doc string one line, required: what the step does
---@field run fun(params: FfParams) fails the step by raising (error(msg, 0), rb.fail); its return value is ignored
---@field cleanup? boolean runs even after an earlier step failed (teardown)

------------------------------------------------------------------------------
-- ff: plain data (host/lua/l_config.c, host/vm/sandbox.c, runbook.c)
------------------------------------------------------------------------------

---Folders of this run, all absolute.
---@class (exact) FfPaths
---@field backups string writable; the host creates it for a real run (a dry-run goes without it when missing)
---@field evidence string writable
---@field tmp string writable; private to the run, removed at exit
---@field config_dir string read-only: the config file's folder
---@field runbook string read-only: this runbook's file
---@field runbook_dir string read-only
---@field stdlib string read-only

---This run; filled once the evidence folder exists (empty under --describe and --check).
---@class (exact) FfRun
---@field id string RUN_ID, the evidence folder's name
---@field dir string the evidence folder (exec and ff.evidence.raw files go to its raw/)
---@field started_at number epoch seconds
---@field dry_run boolean

---@class (exact) FfTarget
---@field name string
---@field conninfo? string nil: libpq's environment
---@field ephemeral boolean a throwaway cluster made by ffrun

---@class (exact) FfSmoke
---@field name string
---@field sql string

---The configuration runbooks may see (ffrun.yaml, SPEC §3).
---@class (exact) FfConfig
---@field file? string the config file read; nil for the built-in defaults
---@field targets table<string, FfTarget> by name
---@field postgres { bindir: string, os_user: string? } bindir is "auto" or a folder
---@field backup { globals: "roles"|"with-passwords"|"none", verify: "none"|"rows"|"content", jobs: integer } jobs 0 = auto
---@field retention { keep_last: integer, keep_days: integer }
---@field objectives { rpo_hours: number, rto_minutes: number }
---@field snapshots string[] absolute paths of files readable as snapshots
---@field smoke FfSmoke[]
---@field services { up: string[][], check: string[][] } argv arrays
---@field restore { allow_errors: string[] } patterns of pg_restore errors allowed
---@field limits { memory_mb: integer, seconds: number } seconds 0 = no wall-clock cap

---@class (exact) Ff
---@field dry_run boolean true under --dry-run
---@field version string ffrun's version
---@field paths FfPaths
---@field run FfRun
---@field config FfConfig
---@field fs FfFs
---@field hash FfHash
---@field log FfLog
---@field time FfTime
---@field yaml FfYaml
---@field json FfJson
---@field evidence FfEvidence
---@field verify FfVerify
---@field pg FfPg
ff = {}

------------------------------------------------------------------------------
-- ff.fs: the jailed filesystem (host/lua/l_fs.c). Every path is checked by
-- the jail: writes only below paths.backups, paths.evidence and paths.tmp.
------------------------------------------------------------------------------

---@class (exact) FfFs
ff.fs = {}

---Read. The whole content of a regular file.
---@param path string
---@return string? data nil when it cannot be read
---@return string? err
function ff.fs.read(path) end

---Read. Names in a folder, sorted, without "." and "..".
---@param path string
---@return string[]? names nil when it cannot be listed
---@return string? err
function ff.fs.list(path) end

---@class (exact) FfStat
---@field type "file"|"dir"|"symlink"|"other"
---@field size integer bytes
---@field mtime integer epoch seconds
---@field mode integer permission bits (mode & 0x0FFF)

---Read. Metadata of a path (symlinks are refused, not followed). Raises when a folder on the way is missing.
---@param path string
---@return FfStat? stat nil when it does not exist
---@return string? err
function ff.fs.stat(path) end

---Read. Whether path exists (false also when a folder on the way is missing).
---@param path string
---@return boolean
function ff.fs.exists(path) end

---Write. Replace the file atomically (temporary name, fsync, rename), mode 0600. Raises when its folder is missing.
---@param path string
---@param data string
---@return true? ok
---@return string? err
function ff.fs.write(path, data) end

---Write. Append to a file, creating it (0600). Raises when it cannot be opened.
---@param path string
---@param data string
---@return true? ok
---@return string? err
function ff.fs.append(path, data) end

---Write. Create one folder (0700); an existing one is fine. Raises when its parent is missing.
---@param path string
---@return true? ok
---@return string? err
function ff.fs.mkdir(path) end

---Write. Remove a file or an empty folder, or a whole tree when recursive. A root folder is a violation.
---@param path string
---@param recursive? boolean
---@return true? ok
---@return string? err
function ff.fs.remove(path, recursive) end

---Write. Rename, never replacing an existing `to` (that is an error). A root folder is a violation.
---@param from string
---@param to string
---@return true? ok
---@return string? err
function ff.fs.rename(from, to) end

---Write. fsync a file or folder. Raises when it cannot be opened.
---@param path string
---@return true? ok
---@return string? err
function ff.fs.fsync(path) end

---Write. Take the exclusive lock of a folder (flock on <dir>/.ffrun.lock),
---held until lock:release() or the end of the run. When another run holds
---it, the step fails and the run exits 4 (busy). In --dry-run it only checks
---that nobody holds it, and returns a released lock.
---@param dir string
---@return FfLock
function ff.fs.lock(dir) end

---@class (exact) FfLock
local FfLock = {}

---Release the lock (again is harmless); also done by `<close>` and at the end of the run.
function FfLock:release() end

---Read. Bytes available to ffrun on the filesystem of a folder. Raises when it cannot be opened.
---@param dir string
---@return integer? bytes
---@return string? err
function ff.fs.free_bytes(dir) end

---Write. Write DIGEST (sha256sum -c format) over every file below a folder, fsynced.
---@param dir string
---@return true? ok
---@return string? err
function ff.fs.write_digest(dir) end

------------------------------------------------------------------------------
-- ff.hash (host/lua/l_hash.c)
------------------------------------------------------------------------------

---@class (exact) FfHash
ff.hash = {}

---Read. sha256 of a file, streamed.
---@param path string
---@return string? hex 64 lower-case hex digits; nil on failure
---@return integer|string bytes_or_err the file's size, or why it failed
function ff.hash.file(path) end

---Read. sha256 of a string.
---@param s string
---@return string hex
function ff.hash.string(s) end

------------------------------------------------------------------------------
-- ff.exec (host/lua/l_exec.c)
------------------------------------------------------------------------------

---@class FfExecOpts
---@field timeout? number seconds before the whole process group is killed; default 300, 0 = none
---@field name? string file name of the captured output in the evidence raw/ folder; default "exec-<program>.log"

---@class (exact) FfExecResult
---@field ok boolean exited with status 0, not timed out
---@field code integer exit status; -1 when killed by a signal
---@field signal? integer the signal that killed it
---@field timed_out? boolean killed by the timeout (or a stop of the run)
---@field output string last 4 KiB of stdout+stderr, secrets redacted; "" in --dry-run
---@field raw? string "raw/<name>" in ff.run.dir: the whole captured output
---@field duration_s? number
---@field dry_run? boolean true for the stand-in returned by --dry-run

---Write. Run a program: argv only (no shell), argv[1] an absolute path in
---exec.allow (or a services program), a scrubbed environment. A program not
---allowed is a violation; a failing program is `ok = false`, not an error.
---In --dry-run: `{ ok = true, code = 0, dry_run = true, output = "" }`.
---@param argv string[]
---@param opts? FfExecOpts
---@return FfExecResult? result nil when it could not be started
---@return string? err
function ff.exec(argv, opts) end

------------------------------------------------------------------------------
-- ff.log and ff.time (host/lua/l_log.c)
------------------------------------------------------------------------------

---@class (exact) FfLog
ff.log = {}

---Read. Log the arguments (tostring, joined by spaces) to stderr and the run's log.
---@param ... any
function ff.log.info(...) end

---Read. Like info, at level warn (shown even with --quiet).
---@param ... any
function ff.log.warn(...) end

---Read. Like info, at level error (shown even with --quiet).
---@param ... any
function ff.log.error(...) end

---@class (exact) FfTime
ff.time = {}

---Read. Wall-clock time, epoch seconds with a fraction.
---@return number
function ff.time.now() end

---Read. Monotonic seconds, for measuring durations.
---@return number
function ff.time.monotonic() end

---Read. "YYYYMMDD-HHMMSS" in UTC (a backup's STAMP).
---@param t? number epoch seconds; default now
---@return string
function ff.time.stamp(t) end

---Read. ISO 8601 in UTC with milliseconds: "YYYY-MM-DDTHH:MM:SS.mmmZ".
---@param t? number epoch seconds; default now
---@return string
function ff.time.iso(t) end

---Read. A "YYYYMMDD-HHMMSS" STAMP (UTC) to epoch seconds.
---@param s string
---@return integer? t nil when s is not a STAMP
function ff.time.parse_stamp(s) end

------------------------------------------------------------------------------
-- ff.yaml (host/lua/l_yaml.c)
------------------------------------------------------------------------------

---@class (exact) FfYaml
ff.yaml = {}

---Read. Parse one YAML document into tables. Plain true/false/null/~ and
---numbers become Lua values, quoted scalars stay strings; anchors, aliases
---and duplicate keys are refused. An empty document gives nil alone.
---@param text string
---@param name? string for error messages; default "(yaml)"
---@return any value nil on failure (or for an empty document)
---@return string? err
function ff.yaml.load(text, name) end

---Read. A safe snapshot: values under secret-looking keys (and URL
---passwords) replaced by "[REDACTED]". name picks the format: .yml/.yaml,
---.env, else line by line.
---@param text string
---@param name string the file's name
---@return string? redacted nil only when out of memory
---@return integer|string count_or_err how many values were redacted, or why it failed
function ff.yaml.redact(text, name) end

------------------------------------------------------------------------------
-- ff.json: lua-cjson 2.1, linked in (its settings are this run's own)
------------------------------------------------------------------------------

---@class (exact) FfJson
---@field null lightuserdata stands for JSON null in both directions
---@field _NAME string
---@field _VERSION string
ff.json = {}

---Read. Encode a value as JSON; raises on what JSON cannot hold (functions, sparse arrays, NaN).
---@param value any
---@return string
function ff.json.encode(value) end

---Read. Decode JSON text; raises on invalid JSON (use pcall to branch).
---@param text string
---@return any
function ff.json.decode(text) end

---Read. Setting (also used by ff.evidence.set): how sparse arrays are encoded.
---@param convert? boolean|"on"|"off" encode excessively sparse arrays as objects
---@param ratio? integer
---@param safe? integer
---@return boolean convert
---@return integer ratio
---@return integer safe
function ff.json.encode_sparse_array(convert, ratio, safe) end

---Read. Setting: the deepest nesting encode accepts.
---@param depth? integer
---@return integer depth
function ff.json.encode_max_depth(depth) end

---Read. Setting: the deepest nesting decode accepts.
---@param depth? integer
---@return integer depth
function ff.json.decode_max_depth(depth) end

---Read. Setting: significant digits of encoded numbers (1 to 14).
---@param precision? integer
---@return integer precision
function ff.json.encode_number_precision(precision) end

---Read. Setting: keep the encode buffer between calls.
---@param keep? boolean|"on"|"off"
---@return boolean keep
function ff.json.encode_keep_buffer(keep) end

---Read. Setting: whether NaN and infinity encode (true, false or "null").
---@param setting? boolean|"on"|"off"|"null"
---@return boolean|"null" setting
function ff.json.encode_invalid_numbers(setting) end

---Read. Setting: whether NaN, Infinity and hex numbers decode.
---@param setting? boolean|"on"|"off"
---@return boolean setting
function ff.json.decode_invalid_numbers(setting) end

---Read. A fresh cjson module with its own settings.
---@return FfJson
function ff.json.new() end

------------------------------------------------------------------------------
-- ff.evidence and ff.verify (host/lua/l_evidence.c)
------------------------------------------------------------------------------

---@class (exact) FfEvidence
ff.evidence = {}

---Read (writes only this run's evidence, so it runs in --dry-run too).
---Set a top-level member of summary.json (JSON-encoded; the last value set
---wins). key is lower_case and not one the host writes (status, steps, ...);
---a bad key raises.
---@param key string
---@param value any
function ff.evidence.set(key, value) end

---Read (writes only this run's evidence, so it runs in --dry-run too).
---Save data as a new file in the evidence raw/ folder; a taken name gets
---".2", ".3", ... Raises when it cannot be written.
---@param name string one file name ("/" becomes "_")
---@param data string
---@return string relpath "raw/<name>" as saved, relative to ff.run.dir
function ff.evidence.raw(name, data) end

---@class (exact) FfVerify
ff.verify = {}

---Read. Check a folder against its DIGEST: every listed file's sha256, and
---every file listed. Raises when the folder cannot be opened.
---@param dir string
---@return boolean ok
---@return string[] problems one message per problem; empty when ok
function ff.verify.digest(dir) end

---Read. Check an evidence folder's events.jsonl hash chain (seq without
---gaps, each prev the sha256 of the line before). Compare count and
---last_sha256 with summary.json's "events" to catch a removed last line.
---Raises when the folder cannot be opened.
---@param dir string
---@return boolean ok
---@return string[] problems
---@return integer count lines read
---@return string last_sha256 sha256 of the last line ("" when none)
function ff.verify.events(dir) end

------------------------------------------------------------------------------
-- ff.pg: PostgreSQL through typed primitives only (host/lua/l_pg.c). Targets
-- are named as in ff.config.targets; the tools come from postgres.bindir
-- (major selects a version there; 0 or nil: the default).
------------------------------------------------------------------------------

---@class (exact) FfPg
ff.pg = {}

---Read. Connect to a configured target (an unknown or ephemeral target raises).
---@param target string
---@return FfPgConn? conn nil when the connection failed
---@return string? err
function ff.pg.connect(target) end

---A connection; every query runs in a READ ONLY transaction. Closed by
---conn:close(), `<close>`, or the end of the run.
---@class (exact) FfPgConn
local FfPgConn = {}

---Read. Run sql with $1, $2... bound to the text of the extra arguments (nil
---is NULL; at most 64). Rows are tables of column = text; NULLs are absent.
---@param sql string
---@param ... string|number|nil
---@return table<string, string>[]? rows nil on failure
---@return string? err
function FfPgConn:query(sql, ...) end

---@class (exact) FfPgFacts
---@field server_version string
---@field server_major integer
---@field system_identifier string
---@field dbname string
---@field user string
---@field host string
---@field port string
---@field size_bytes integer

---Read. Facts about the server and the database.
---@return FfPgFacts? facts
---@return string? err
function FfPgConn:facts() end

---Read. Open a REPEATABLE READ transaction and export its snapshot, held
---while the connection lives. Raises if this connection already holds one
---or the transaction cannot begin.
---@return string? id for ff.pg.dump{snapshot=} and conn:use_snapshot
---@return string? err
function FfPgConn:export_snapshot() end

---Read. See exactly what the exporting session sees. Raises if this
---connection already holds a snapshot or id is not a snapshot id.
---@param id string
---@return true? ok
---@return string? err
function FfPgConn:use_snapshot(id) end

---Read. Ordinary and partitioned tables outside the system schemas (partitions excluded), sorted.
---@return { schema: string, name: string }[]? tables
---@return string? err
function FfPgConn:tables() end

---Read. Every sequence ("schema.name") with its last value as text (absent when never used).
---@return { name: string, last_value: string? }[]? sequences
---@return string? err
function FfPgConn:sequences() end

---Read. A table's fingerprint. mode "rows" (default): its exact count(*).
---mode "content": the row count and an order-independent sha256 of its
---COPY text under fixed settings.
---@param schema string
---@param table string
---@param mode? "rows"|"content"
---@return integer? rows nil on failure
---@return string? sha256_or_err the content digest ("content" mode), or why it failed
function FfPgConn:fingerprint(schema, table, mode) end

---Read. Close the connection (again is harmless).
function FfPgConn:close() end

---@class FfPgDumpOpts
---@field target string
---@field out string the archive to create; it must not exist yet
---@field snapshot? string an exported snapshot id to dump in
---@field major? integer
---@field estimate_bytes? integer for the progress line's ETA

---@class (exact) FfPgDumpResult
---@field ok boolean
---@field bytes integer written to out
---@field sha256? string of the bytes written, computed while streaming
---@field duration_s? number
---@field raw? string "raw/<tool>.log" in ff.run.dir: the tool's stderr
---@field error? string why, when not ok
---@field dry_run? boolean true for the stand-in returned by --dry-run

---A pg_dump running in the background.
---@class (exact) FfPgDumpJob
local FfPgDumpJob = {}

---Wait for the dump to finish (once).
---@return FfPgDumpResult
function FfPgDumpJob:wait() end

---Write. Start pg_dump --format=custom of the target's database into out,
---streamed through sha256 in one pass, in the background. In --dry-run:
---a stand-in whose wait() gives `{ ok = true, dry_run = true, bytes = 0 }`.
---Raises when it cannot start (no pg_dump, out exists or is not writable).
---@param opts FfPgDumpOpts
---@return FfPgDumpJob
function ff.pg.dump(opts) end

---@class FfPgGlobalsOpts
---@field target string
---@field out string the file to create; it must not exist yet
---@field passwords? boolean include role password hashes (secrets); default false
---@field major? integer

---Write. pg_dumpall --globals-only (roles, tablespaces) into out, and wait
---for it. In --dry-run: `{ ok = true, dry_run = true, bytes = 0 }`.
---Raises when it cannot start (no pg_dumpall, out exists or is not writable).
---@param opts FfPgGlobalsOpts
---@return FfPgDumpResult
function ff.pg.globals(opts) end

---Read. pg_restore --list of an archive (output saved in the evidence raw/).
---@param path string
---@param major? integer
---@return boolean? ok nil when pg_restore could not be started
---@return string toc_or_err the table of contents (or pg_restore's complaint), or why it failed
---@return string? raw "raw/pg_restore-list.txt..." in ff.run.dir
function ff.pg.archive_list(path, major) end

---Read. Read the whole archive with pg_restore (to /dev/null): a truncated
---archive still lists its TOC, but fails here.
---@param path string
---@param major? integer
---@return boolean? ok nil when pg_restore could not be started
---@return string message_or_err the tail of pg_restore's output, or why it failed
---@return string? raw "raw/pg_restore-read.log..." in ff.run.dir
function ff.pg.archive_read(path, major) end

---Read. First line of `<tool> --version`, e.g. "pg_dump (PostgreSQL) 15.8".
---@param tool "pg_dump"|"pg_restore"|"pg_dumpall"|"initdb"|"postgres"
---@param major? integer
---@return string? version
---@return string? err
function ff.pg.version(tool, major) end
