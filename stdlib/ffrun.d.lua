---@meta
-- ffrun.d.lua: LuaLS annotations for what a runbook sees (SPEC §4, §5).
-- Never loaded by ffrun: it only tells editors what exists, so runbooks
-- get completion and type checks. Add this folder to the editor's
-- `workspace.library`, and set `runtime.version = "Lua 5.4"` and
-- `runtime.builtin = { io = "disable", package = "disable", debug = "disable" }`
-- so the libraries the sandbox withholds are flagged there too.
-- Taken from host/vm/sandbox.c, host/vm/runbook.c and host/lua/*.c.
--
-- Globals a runbook has (everything else is absent; host/vm/sandbox.c):
--   assert error ipairs next pairs pcall select tonumber tostring type
--   xpcall rawequal rawlen rawget getmetatable _G _VERSION, and with
--   sandbox rules:
--     collectgarbage  "count" only (no argument means "collect": a violation)
--     load(text, name, mode, env)  source text only (a reader function or a
--                     binary chunk is a violation); env must be a table (a
--                     violation otherwise); mode is ignored ("t"); a syntax
--                     error returns nil, message
--     setmetatable    tables only; a metatable with __gc is a violation, a
--                     protected metatable cannot change (an error)
--     rawset          on a protected table: a violation
--     print(...)      tostring'ed, tab-joined, logged at level info (stderr
--                     unless --quiet, the run's log, a "log" event)
--     require "a.b"   a/b.lua from the runbook's folder, then stdlib/, as
--                     text, cached; names [A-Za-z0-9_.] without a leading
--                     "." or "..", else a violation; a module returning nil
--                     gives true
--   string (without dump), table, math, utf8, coroutine,
--   os.time os.clock os.date (no other os function), and ff.
-- Reading a withheld name is a sandbox violation, not a nil: io, package,
-- debug, dofile, loadfile, loadstring, module, warn, jit, ffi, unpack,
-- setfenv, getfenv; os.execute, os.exit, os.getenv, os.remove, os.rename,
-- os.tmpname, os.setlocale, os.difftime; string.dump.
--
-- `ff` and every table inside it cannot be modified: an assignment or a
-- rawset on them is a sandbox violation, a setmetatable an error. The same
-- holds for string, table, math, utf8, coroutine and os, and the strings'
-- metatable is hidden (getmetatable("") is false), and so are those of
-- connections, admin handles, instances and dump jobs (not of locks).
--
-- Exit status of a run: 0 PASS, 1 a step failed, 2 usage (bad header,
-- params or CLI; ff.usage; ff.pg.admin with a wrong confirm), 3 sandbox
-- violation or limit, 4 busy (ff.fs.lock held by another run), 70 internal.
-- A violation (a path outside the jail, '..', a symlink, a write to a
-- read-only folder, a program not in exec.allow, a modified `ff`, a
-- database name not ffrun's) or a limit (limits.memory_mb,
-- limits.instructions, limits.seconds) ends the run with exit 3: pcall
-- cannot swallow it, every following instruction raises, and not even
-- cleanup steps run. Busy and usage errors are ordinary errors that also
-- mark the run: pcall may catch them, but if the run then fails it exits
-- 4 or 2 (a violation or limit wins over busy, busy over usage).
-- Operational failures a runbook may branch on return `nil, message` where
-- noted (ff.fs, ff.hash, ff.yaml and ff.exec add a third value, the
-- failure's class: "fail", "usage", "busy", "sandbox" or "internal");
-- other errors raise and fail the step (exit 1).
--
-- Read: runs in every mode. Write: in --dry-run it is planned (printed as
-- "plan N [step] call args", kept in the evidence's "plan" and as a
-- "planned" event), not done, and returns a stand-in: true unless said
-- otherwise. Only the checks each entry names are made in a dry-run.
-- Read and Write calls are recorded as events; functions marked "Not a
-- primitive" (ff.log, ff.time, ff.json, ff.usage, job:wait) are not.
--
-- A runbook returns its header; annotate it with `---@type FfRunbook`.

------------------------------------------------------------------------------
-- The runbook contract (host/vm/runbook.c). Every header or params error
-- below, and an error raised by the runbook's top level, is exit 2.
------------------------------------------------------------------------------

---@alias FfParamType "string"|"integer"|"number"|"boolean"|"dir"

---The table a runbook returns.
---@class FfRunbook
---@field name string lower-case letters, digits, `-` and `_`
---@field version string
---@field summary string one line, shown by --describe
---@field params? FfParam[] given on the command line as NAME=VALUE (an unknown NAME is exit 2)
---@field steps FfStep[] run in order; after a failure the rest are skipped, except cleanup steps

---One parameter of a runbook.
---@class FfParam
---@field name string the NAME of NAME=VALUE and the key in the params table
---@field doc string shown by --describe and in "required" errors
---@field type? FfParamType default "string". A given value is converted: "integer" (base 10), "number", "boolean" (exactly true or false), "dir" (the real path of an existing folder); otherwise exit 2. A "dir" value (given or default) becomes a read-only folder of the jail
---@field default? string|integer|number|boolean used as is (not converted) when not given; choices and check still apply
---@field required? boolean truthy: exit 2 when neither given nor defaulted
---@field choices? any[] the value must be rawequal to one of these (exit 2 otherwise)
---@field check? fun(value: any): any, string? return a true value, or false/nil and why the value is refused (exit 2; raising is exit 2 too)

---Params as the steps get them: each given or defaulted param by name (an
---optional one without a default is absent); given values typed, defaults as written.
---@alias FfParams table<string, string|integer|number|boolean>

---One step of a runbook.
---@class FfStep
---@field name string unique within the runbook
---@field doc string one non-empty line, required: what the step does
---@field run fun(params: FfParams) fails the step by raising (error(msg, 0), rb.fail); its return value is ignored
---@field cleanup? boolean truthy: runs even after an earlier step failed (teardown), but not after a violation or limit

------------------------------------------------------------------------------
-- ff: plain data (host/lua/l_config.c, host/vm/sandbox.c, host/vm/runbook.c)
------------------------------------------------------------------------------

---Folders of this run, all absolute.
---@class (exact) FfPaths
---@field backups string writable when it exists (canonical then); the host creates it for a real run, a dry-run (and --describe/--check) goes without it when missing, and then it is no folder of the jail
---@field evidence string writable (the canonical evidence root; under --describe/--check the configured path, not in the jail)
---@field tmp string writable; private to the run, made when first read (reading it can raise), removed at exit
---@field config_dir string the config file's folder, read-only; with the built-in defaults (no config file) the current folder, which is not readable
---@field runbook string this runbook's file (read-only)
---@field runbook_dir string read-only
---@field stdlib string read-only

---This run; filled before the runbook's top level runs (empty under --describe and --check).
---@class (exact) FfRun
---@field id string RUN_ID, the evidence folder's name
---@field dir string the evidence folder (exec and ff.evidence.raw files go to its raw/)
---@field started_at number epoch seconds
---@field dry_run boolean
---@field cpus integer online processors (at least 1)

---@class (exact) FfTarget
---@field name string
---@field conninfo? string nil: libpq's environment
---@field ephemeral boolean a throwaway cluster made by ffrun (not connectable by name)
---@field engine "pg_dump"|"pgbackrest" how backup and drill treat it (default pg_dump)
---@field pgbackrest? { stanza: string, config: string } engine pgbackrest: the stanza and the operator's pgbackrest.conf (absolute); ffrun passes the path, never a value from it

---@class (exact) FfSmoke
---@field name string
---@field sql string

---The configuration runbooks may see (ffrun.yaml, SPEC §3). Not shown:
---exec.allow, monitoring, limits.instructions (paths are in ff.paths).
---@class (exact) FfConfig
---@field file? string the config file read; nil for the built-in defaults
---@field targets table<string, FfTarget> by name; "prod" (conninfo nil) and "drill" (ephemeral) are added when not defined
---@field postgres { bindir: string, os_user: string } bindir "auto" (default) or a folder; os_user default "postgres"
---@field backup { globals: "roles"|"with-passwords"|"none", verify: "none"|"rows"|"content", jobs: integer, app_state: string[] } jobs 0 = auto; app_state: one argv ({} when none), its program an absolute path, or a bare name when it was not found (its program may be run by ff.exec)
---@field retention { keep_last: integer, keep_days: integer, evidence_days: integer }
---@field objectives { rpo_hours: number, rto_minutes: number }
---@field drill { amcheck: boolean } amcheck default true: the drill runs pg_amcheck on its restored copy
---@field snapshots string[] absolute paths of the configured snapshot files ffrun can read (read-only in the jail)
---@field snapshots_missing string[] absolute paths of the configured snapshot files that are missing or unreadable (not in the jail)
---@field smoke FfSmoke[]
---@field services { up: string[][], check: string[][], drill: { up: string[][], check: string[][], down: string[][] } } argv arrays (their programs may be run by ff.exec); drill: the application against the drill's database
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
---@field plan FfPlan
---@field runbook FfRunbookModule
---@field pgbackrest FfPgbackrest
ff = {}

---Not a primitive. Fail the run as a usage error (exit 2), for input only
---the runbook can judge (a backup stamp that does not exist): raises
---`message` and marks the run, so a later failure still exits 2 even if
---a pcall caught it.
---@param message string
function ff.usage(message) end

------------------------------------------------------------------------------
-- ff.fs: the jailed filesystem (host/lua/l_fs.c). Every path is walked from
-- `/` one component at a time: '..', a symlink anywhere, a path outside the
-- allowed folders or a write to a read-only one is a violation (exit 3).
-- Writable: paths.backups, paths.evidence, paths.tmp; read-only: the
-- runbook's folder, stdlib/, the config's folder, snapshots, "dir" params.
-- "Raises" below means a plain error (the step fails, exit 1).
------------------------------------------------------------------------------

---@class (exact) FfFs
ff.fs = {}

---Read. The whole content of a regular file.
---@param path string
---@return string? data nil when it cannot be read (missing, a folder on the way missing, not a regular file)
---@return string? err
---@return string? code "fail" (the failure's class, see the top)
function ff.fs.read(path) end

---Read. Names in a folder, sorted, without "." and "..".
---@param path string
---@return string[]? names nil when it cannot be listed (missing, not a folder)
---@return string? err
---@return string? code "fail" (the failure's class, see the top)
function ff.fs.list(path) end

---@class (exact) FfStat
---@field type "file"|"dir"|"symlink"|"other" (a symlink is a violation before it is looked at)
---@field size integer bytes
---@field mtime integer epoch seconds
---@field mode integer permission bits (mode & 0x0FFF)

---Read. Metadata of a path, not following symlinks. Raises when a folder on the way is missing.
---@param path string
---@return FfStat? stat nil when it does not exist
---@return string? err
---@return string? code "fail" (the failure's class, see the top)
function ff.fs.stat(path) end

---Read. Whether path exists (false also when a folder on the way is missing).
---@param path string
---@return boolean
function ff.fs.exists(path) end

---Write. Replace the file atomically (temporary name, fsync, rename), mode
---0600. Raises when its folder is missing. Dry-run: the path is checked
---against the jail (a missing folder is not an error there).
---@param path string
---@param data string
---@return true? ok
---@return string? err
---@return string? code "fail" (the failure's class, see the top)
function ff.fs.write(path, data) end

---Write. Append to a file, creating it (0600). Raises when it cannot be
---opened. Dry-run: the path is checked against the jail.
---@param path string
---@param data string
---@return true? ok
---@return string? err when writing fails
---@return string? code "fail" (the failure's class, see the top)
function ff.fs.append(path, data) end

---Write. Create one folder (0700); an existing name is fine. Raises when
---a folder on the way is missing. Dry-run: the path is checked against the jail.
---@param path string
---@return true? ok
---@return string? err
---@return string? code "fail" (the failure's class, see the top)
function ff.fs.mkdir(path) end

---Write. Remove a file or an empty folder, or a whole tree when recursive
---(a missing path is then fine). A root folder of the jail is a violation
---(in a real run). Dry-run: the path is checked against the jail.
---@param path string
---@param recursive? boolean
---@return true? ok
---@return string? err
---@return string? code "fail" (the failure's class, see the top)
function ff.fs.remove(path, recursive) end

---Write. Rename, never replacing an existing `to` (that is `nil, err`).
---A root folder is a violation. Dry-run: both paths are checked against the jail.
---@param from string
---@param to string
---@return true? ok
---@return string? err
---@return string? code "fail" (the failure's class, see the top)
function ff.fs.rename(from, to) end

---Write. fsync a file or folder. Raises when it cannot be opened.
---Dry-run: true, the path is not checked.
---@param path string
---@return true? ok
---@return string? err
---@return string? code "fail" (the failure's class, see the top)
function ff.fs.fsync(path) end

---Write. Take the lock of a folder: flock on <dir>/.ffrun.lock (created,
---so the folder must be writable), exclusive (default; it notes "pid, host,
---run, since" in the file) or shared. Held until lock:release(), `<close>`,
---the lock being garbage-collected (keep a reference) or the end of the
---run. When another run holds it, it raises "busy: <dir> is locked by
---another run (<holder>)" and the run exits 4. A mode other than
---"exclusive" or "shared" raises. Dry-run: only checks that nobody holds
---it (busy is still exit 4) and returns a released lock.
---@param dir string
---@param mode? "exclusive"|"shared"
---@return FfLock
function ff.fs.lock(dir, mode) end

---@class (exact) FfLock
local FfLock = {}

---Not a primitive. Release the lock (again is harmless).
function FfLock:release() end

---Read. Bytes available to ffrun on the filesystem of a folder. Raises when it cannot be opened.
---@param dir string
---@return integer? bytes
---@return string? err
---@return string? code "fail" (the failure's class, see the top)
function ff.fs.free_bytes(dir) end

---Write. Write DIGEST (sha256sum -c format) over every file below a
---writable folder, fsynced, then read it back: every file hashed again
---(a mismatch is the failure, naming the first one). Raises when the
---folder cannot be opened. Dry-run: the path is checked against the jail;
---true.
---@param dir string
---@param known? { path: string, sha256: string, bytes: integer }[] digests taken while the files were written (a manifest's artifacts): such a file is not read again while it keeps that size
---@return true? ok
---@return string? err
---@return string? code "fail" (the failure's class, see the top)
function ff.fs.write_digest(dir, known) end

------------------------------------------------------------------------------
-- ff.hash (host/lua/l_hash.c)
------------------------------------------------------------------------------

---@class (exact) FfHash
ff.hash = {}

---Read. sha256 of a file, streamed.
---@param path string
---@return string? hex 64 lower-case hex digits; nil on failure
---@return integer|string bytes_or_err the file's size, or why it failed
---@return string? code "fail" on failure (the failure's class, see the top)
function ff.hash.file(path) end

---Read. sha256 of a string.
---@param s string
---@return string hex
function ff.hash.string(s) end

------------------------------------------------------------------------------
-- ff.exec (host/lua/l_exec.c)
------------------------------------------------------------------------------

---@class FfExecOpts
---@field timeout? number seconds before the whole process group is killed; default 300, 0 (or less) = none
---@field name? string file name of the captured output in the evidence raw/ folder ("/" becomes "_", a taken name gets ".2"...); default "exec-<program>.log"
---@field env? table<string, string> added to the scrubbed environment (PATH, LANG): only PGHOST, PGHOSTADDR, PGPORT, PGDATABASE, PGUSER, PGAPPNAME, PGSSLMODE, PGCONNECT_TIMEOUT and DATABASE_URL (without a password); anything else is a violation
---@field redact? string a file name (its extension picks the mode, as ff.yaml.redact): the output is held back, redacted like a snapshot, and only then written to raw/; `output` is then all of it (at most 1 MiB), redacted

---@class (exact) FfExecResult
---@field ok boolean exited with status 0, not timed out
---@field code integer exit status; -1 when killed by a signal
---@field signal? integer the signal that killed it
---@field timed_out? boolean killed by the timeout or a stop of the run (absent in the dry stand-in)
---@field output string last 4 KiB of stdout+stderr, secrets redacted; "" in --dry-run
---@field raw? string "raw/<name>" in ff.run.dir: the whole captured output (absent in the dry stand-in)
---@field duration_s? number (absent in the dry stand-in)
---@field dry_run? boolean true for the stand-in returned by --dry-run
---@field redacted? integer with opts.redact: how many values were replaced (0 in --dry-run)
---@field truncated? boolean with opts.redact: the output was over 1 MiB and was cut there

---Write. Run a program: argv only (no shell), argv[1] an absolute path in
---exec.allow, a services program or backup.app_state's, a scrubbed environment. A relative or
---not allowed program is a violation; a non-string item raises; a failing
---program is `ok = false`, not an error. Raises when the raw/ file cannot
---be created. Dry-run: argv is checked the same way, and the result is
---`{ ok = true, code = 0, dry_run = true, output = "" }`.
---@param argv string[]
---@param opts? FfExecOpts
---@return FfExecResult? result nil when it could not be started
---@return string? err
---@return string? code "fail" (the failure's class, see the top)
function ff.exec(argv, opts) end

------------------------------------------------------------------------------
-- ff.log and ff.time (host/lua/l_log.c): not primitives (no event; the log
-- lines are "log" events), they run in every mode.
------------------------------------------------------------------------------

---@class (exact) FfLog
ff.log = {}

---Not a primitive. Log the arguments (tostring, joined by spaces) to stderr (not with --quiet) and the run's log.
---@param ... any
function ff.log.info(...) end

---Not a primitive. Like info, at level warn (shown even with --quiet).
---@param ... any
function ff.log.warn(...) end

---Not a primitive. Like info, at level error (shown even with --quiet).
---@param ... any
function ff.log.error(...) end

---Not a primitive. The runbook's product (a report) written as is (no
---newline added) to stdout; nothing with --json, where stdout holds the
---one JSON object.
---@param text string
function ff.log.out(text) end

---@class (exact) FfTime
ff.time = {}

---Not a primitive. Wall-clock time, epoch seconds with a fraction.
---@return number
function ff.time.now() end

---Not a primitive. Monotonic seconds, for measuring durations.
---@return number
function ff.time.monotonic() end

---Not a primitive. "YYYYMMDD-HHMMSS" in UTC (a backup's STAMP).
---@param t? number epoch seconds; default now
---@return string
function ff.time.stamp(t) end

---Not a primitive. ISO 8601 in UTC with milliseconds: "YYYY-MM-DDTHH:MM:SS.mmmZ".
---@param t? number epoch seconds; default now
---@return string
function ff.time.iso(t) end

---Not a primitive. A "YYYYMMDD-HHMMSS" STAMP (UTC) to epoch seconds.
---@param s string
---@return integer? t nil when s is not a STAMP
function ff.time.parse_stamp(s) end

---Not a primitive. Wait without burning instructions. Raises when seconds
---is not between 0 and 3600, and raises "interrupted by <signal>" when
---the run is being stopped (a signal, the wall-clock limit).
---@param seconds number
function ff.time.sleep(seconds) end

------------------------------------------------------------------------------
-- ff.yaml (host/lua/l_yaml.c)
------------------------------------------------------------------------------

---@class (exact) FfYaml
ff.yaml = {}

---Read. Parse one YAML document into tables. Plain true/false/null/~ (and
---empty) and numbers become Lua values, quoted scalars stay strings;
---anchors, aliases and duplicate keys are refused (nil, err). Nesting
---deeper than 64 raises. An empty document gives nil alone.
---@param text string
---@param name? string for error messages; default "(yaml)"
---@return any value nil on failure (or for an empty document)
---@return string? err
---@return string? code "fail" (the failure's class, see the top)
function ff.yaml.load(text, name) end

---Read. A safe snapshot: values under secret-looking keys (and URL
---passwords) replaced by "[REDACTED]". name picks the format: .yml/.yaml,
---.env, else line by line.
---@param text string
---@param name string the file's name
---@return string? redacted nil on failure
---@return integer|string count_or_err how many values were redacted, or why it failed
---@return string? code "fail" on failure (the failure's class, see the top)
function ff.yaml.redact(text, name) end

------------------------------------------------------------------------------
-- ff.json: lua-cjson 2.1, linked in, with its settings fixed at cjson's
-- defaults (nesting up to 1000 levels each way, 14 significant digits,
-- NaN and infinity refused): encode, decode and null only. Its setters
-- and new() are not exposed: a runbook that raised the depth limits could
-- send the recursive coder through the C stack. Not primitives: no events.
------------------------------------------------------------------------------

---@class (exact) FfJson
---@field null lightuserdata stands for JSON null in both directions
ff.json = {}

---Not a primitive. Encode a value as JSON; raises on what JSON cannot hold (functions, sparse arrays, NaN, more than 1000 levels).
---@param value any
---@return string
function ff.json.encode(value) end

---Not a primitive. Decode JSON text; raises on invalid JSON or more than 1000 levels (use pcall to branch).
---@param text string
---@return any
function ff.json.decode(text) end

------------------------------------------------------------------------------
-- ff.plan (host/lua/l_plan.c): what a plan pins of the runbook's choices
------------------------------------------------------------------------------

---@class (exact) FfPlan
ff.plan = {}

---Read. The backup this run works from (a folder with a DIGEST). Under
-----dry-run --plan-out the plan pins it: its path and its DIGEST's sha256,
---and `backup=<its stamp>` in the plan's params. Under --plan it raises
---unless it is the plan's backup with the same DIGEST. Otherwise nothing.
---stdlib/proof.lua's open_backup calls it for restore and drill.
---@param path string
function ff.plan.backup(path) end

------------------------------------------------------------------------------
-- ff.runbook (host/lua/l_runbook.c): a shipped runbook as a run of its own
------------------------------------------------------------------------------

---@class (exact) FfRunbookRun
---@field ok boolean the child exited 0 (PASS)
---@field code integer its exit status (-1 when a signal ended it)
---@field signal? integer the signal that ended it
---@field timed_out? boolean stopped by this run's cancel (a signal to ffrun); absent in the dry stand-in
---@field output string the last 4 KiB of its stderr, secrets masked
---@field raw string its whole stderr: raw/runbook-<name>.log
---@field duration_s number
---@field summary? string its summary.json as it printed it (--json); absent when it ended before its evidence opened (a usage error) or in a dry-run
---@field dry_run? boolean a rehearsal's stand-in: no child ran

---@class (exact) FfRunbookModule
ff.runbook = {}

---Write. Run the shipped runbook `name` (`$FFRUN_HOME/runbooks/<name>.lua`)
---as ffrun itself would from the command line, with this run's
---configuration file and params as NAME=VALUE: its own sandbox, locks,
---limits and sealed evidence. ffrun's environment is kept (libpq's, the
---home folder); a runbook started this way may start one more level, no
---deeper (a violation). A signal to this run stops the child as it would
---stop ffrun, cleanup steps included. Dry: the same checks (the runbook
---exists, params are name=scalar), no child: `{ok=true, code=0,
---dry_run=true, output="", raw="(planned)", duration_s=0}`.
---@param name string a shipped runbook's bare name ([a-z0-9_-]+)
---@param params? table<string, string|number|boolean>
---@return FfRunbookRun? result nil when it could not be started
---@return string? err why
---@return string? code "fail"
function ff.runbook.run(name, params) end

------------------------------------------------------------------------------
-- ff.evidence and ff.verify (host/lua/l_evidence.c)
------------------------------------------------------------------------------

---@class (exact) FfEvidence
ff.evidence = {}

---Read (writes only this run's evidence, so it runs in --dry-run too).
---Set a top-level member of summary.json (JSON-encoded; the last value set
---wins). key is lower_case ([a-z0-9_]) and not one the host writes
---(format run_id runbook mode status started_at finished_at duration_s
---params steps ffrun_version host error limit plan events); a bad key, or
---a value JSON cannot hold, raises.
---@param key string
---@param value any
function ff.evidence.set(key, value) end

---Read (writes only this run's evidence, so it runs in --dry-run too).
---Save data as a new file in the evidence raw/ folder; "/", "\" and
---control characters in name become "_" (a leading "." too), a taken
---name gets ".2", ".3", ... Raises when it cannot be written.
---@param name string one file name
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
-- are named as in ff.config.targets (an unknown target raises, and so does
-- an ephemeral one where a server is needed). The tools come from
-- postgres.bindir; with bindir "auto", major selects
-- /usr/lib/postgresql/<major>/bin (0 or nil: the newest installed); a
-- tool not found raises unless said otherwise.
------------------------------------------------------------------------------

---@class (exact) FfPg
ff.pg = {}

---Read. Connect to a configured server target.
---@param target string
---@param dbname? string another database of the same server (a restored copy) instead of the target's
---@return FfPgConn? conn nil when the connection failed
---@return string? err
---@return string? code on failure: "fail", "usage", "busy", "sandbox" or "internal"
function ff.pg.connect(target, dbname) end

---A connection; every query runs in a READ ONLY transaction. Closed by
---conn:close(), `<close>`, garbage collection, or the end of the run; a
---method of a closed connection raises.
---@class (exact) FfPgConn
local FfPgConn = {}

---Read. Run one statement with $1, $2... bound to the text of the extra
---arguments (strings or numbers; nil is NULL; more than 64 raises), in a
---REPEATABLE READ READ ONLY transaction of its own (or in the snapshot's,
---after export_snapshot/use_snapshot). Rows are tables of column = text;
---NULLs are absent.
---@param sql string
---@param ... string|number|nil
---@return table<string, string>[]? rows nil on failure
---@return string? err
---@return string? code on failure: "fail", "usage", "busy", "sandbox" or "internal"
function FfPgConn:query(sql, ...) end

---@class (exact) FfPgFacts
---@field server_version string
---@field server_major integer
---@field system_identifier string
---@field dbname string
---@field user string
---@field encoding string the database's encoding ("UTF8")
---@field host string
---@field port string
---@field size_bytes integer

---Read. Facts about the server and the database.
---@return FfPgFacts? facts
---@return string? err
---@return string? code on failure: "fail", "usage", "busy", "sandbox" or "internal"
function FfPgConn:facts() end

---Read. Open a REPEATABLE READ transaction and export its snapshot, held
---while the connection lives. Raises if this connection already holds one
---or the transaction cannot begin.
---@return string? id for ff.pg.dump{snapshot=} and conn:use_snapshot
---@return string? err
---@return string? code on failure: "fail", "usage", "busy", "sandbox" or "internal"
function FfPgConn:export_snapshot() end

---Read. See exactly what the exporting session sees (this session also
---gets jit = off and no parallel workers). Raises if this connection
---already holds a snapshot or id is not a snapshot id.
---@param id string
---@return true? ok
---@return string? err
---@return string? code on failure: "fail", "usage", "busy", "sandbox" or "internal"
function FfPgConn:use_snapshot(id) end

---Read. Ordinary and partitioned tables outside pg_catalog,
---information_schema and pg_* schemas (partitions excluded), sorted.
---@return { schema: string, name: string }[]? tables
---@return string? err
---@return string? code on failure: "fail", "usage", "busy", "sandbox" or "internal"
function FfPgConn:tables() end

---Read. Every sequence ("schema.name") with its last value as text (absent when never used).
---@return { name: string, last_value: string? }[]? sequences
---@return string? err
---@return string? code on failure: "fail", "usage", "busy", "sandbox" or "internal"
function FfPgConn:sequences() end

---Read. A table's fingerprint. mode "rows" (default; any mode but
---"content"): its exact count(*), one value. mode "content": the row count
---and an order-independent sha256 of its COPY text under fixed settings.
---Runs in a read-only transaction (the snapshot's, when it holds one),
---with row_security off as pg_dump does: a row policy that would hide
---rows from the connection's role is an error, not a smaller count.
---@param schema string
---@param table string
---@param mode? "rows"|"content"
---@return integer? rows nil on failure
---@return string? sha256_or_err the content digest ("content" mode), or why it failed
---@return string? code on failure: "fail", "usage", "busy", "sandbox" or "internal"
function FfPgConn:fingerprint(schema, table, mode, encoding) end

---Read. conn:fingerprint for every table of `tables` (as conn:tables()
---lists them) at once, over `jobs` connections opened like this one
---(default: the number of CPUs, at most 8) that all see its snapshot when
---it holds one, each taking the biggest table or page range left (a plain
---table over 64 MiB is read in page ranges when jobs > 1; `parts` says in
---how many). Results are in the order of `tables` and equal what
---conn:fingerprint gives.
---@param tables { schema: string, name: string }[]
---@param mode? "rows"|"content"
---@param jobs? integer 1 to 64
---@param encoding? string COPY text's (default: the database's own)
---@return { rows: integer, content_sha256: string?, parts: integer }[]? fingerprints
---@return string? err
---@return string? code on failure: "fail", "usage", "busy", "sandbox" or "internal"
function FfPgConn:fingerprints(tables, mode, jobs, encoding) end

---@class (exact) FfPgCopyResult
---@field rows integer
---@field bytes integer of COPY text
---@field sha256 string of that text, in the order the SELECT gave it
---@field raw? string copy_raw: its path in ff.run.dir ("raw/<name>")

---Write. The rows of `sql` (one SELECT) as COPY text, in its order, into
---`path` (through the jail; created 0600 or replaced, fsynced), read in
---the connection's snapshot when it holds one, else in a read-only
---transaction; constant memory. The backup writes its large-object and
---schema inventories with it. Dry-run: reads and hashes, writes nothing.
---@param sql string
---@param path string
---@return FfPgCopyResult? result
---@return string? err
---@return string? code on failure: "fail", "usage", "busy", "sandbox" or "internal"
function FfPgConn:copy_out(sql, path) end

---Read. As copy_out, into the run's evidence as raw/<name> (evidence is
---written in a rehearsal too). The proof reads the restored copy's
---inventories with it.
---@param sql string
---@param name string a file name under raw/
---@return FfPgCopyResult? result
---@return string? err
---@return string? code on failure: "fail", "usage", "busy", "sandbox" or "internal"
function FfPgConn:copy_raw(sql, name) end

---Read. Read one row of a table (the built-in smoke check).
---Raises when the names cannot be quoted.
---@param schema string
---@param table string
---@return true? ok
---@return string? err
---@return string? code on failure: "fail", "usage", "busy", "sandbox" or "internal"
function FfPgConn:readable(schema, table) end

---Read. Close the connection (again is harmless).
function FfPgConn:close() end

---@class FfPgDumpOpts
---@field target string a server target (required)
---@field out string the archive to create (required); it must not exist yet
---@field snapshot? string an exported snapshot id to dump in
---@field major? integer
---@field estimate_bytes? integer for the progress line's ETA
---@field fingerprint? "rows"|"content" also read the archive back with pg_restore --data-only as it is written, and count (and digest) each table's rows: result.tables. pg_dump's session then uses the fingerprint settings (UTC, UTF8, hex bytea): ask for it only on a UTF8 database

---@class (exact) FfPgDumpResult
---@field ok boolean
---@field bytes integer written to out
---@field sha256 string of the bytes written, computed while streaming ("(planned)" in a dry-run)
---@field duration_s number (0 in a dry-run)
---@field raw string "raw/pg_dump.log" or "raw/pg_dumpall.log" (".2"...) in ff.run.dir: the tool's stderr ("(planned)" in a dry-run)
---@field toc? string ff.pg.dump: the finished archive's table of contents, as stock pg_restore --list read it back (in a dry-run: only the "Dumped by pg_dump version:" line of the pg_dump that would write it)
---@field toc_error? string ff.pg.dump: why there is no toc
---@field error? string why, when not ok
---@field dry_run? boolean true for the stand-in returned by --dry-run
---@field tables? { schema: string, name: string, rows: integer, content_sha256: string? }[] with opts.fingerprint: every table whose data is in the archive (a partition on its own), in archive order
---@field fingerprint_error? string with opts.fingerprint: why there are no tables (pg_restore could not read the archive back, or its text was not a data script)
---@field sequences? { qname: string, last_value: string, is_called: boolean }[] ff.pg.dump: every sequence as the finished archive's SEQUENCE SET entries set it (pg_dump reads sequences outside its snapshot, so the archive, not the snapshot, is what a restore gives); {} in a dry-run
---@field sequences_error? string ff.pg.dump: why there are no sequences
---@field sequences_s? number ff.pg.dump: how long reading them back from the archive took (0 in a dry-run)

---A pg_dump running in the background; garbage collection or `<close>`
---stops it (keep a reference until wait()).
---@class (exact) FfPgDumpJob
local FfPgDumpJob = {}

---Not a primitive. Wait for the dump to finish; a second call raises.
---@return FfPgDumpResult
function FfPgDumpJob:wait() end

---Write. Start pg_dump --format=custom of the target's database into out,
---streamed through sha256 in one pass, in the background. Raises when it
---cannot start (a missing option, no pg_dump, out exists or cannot be
---created; out outside the writable folders is a violation). Dry-run:
---the same checks (target, out writable through the jail, fingerprint),
---and a job whose wait() gives the result's shape with planned values
---(`dry_run = true`, `bytes = 0`, `tables = {}` with fingerprint).
---@param opts FfPgDumpOpts
---@return FfPgDumpJob
function ff.pg.dump(opts) end

---@class FfPgGlobalsOpts
---@field target string a server target (required)
---@field out string the file to create (required); it must not exist yet
---@field passwords? boolean include role password hashes (secrets); default false (--no-role-passwords)
---@field major? integer

---Write. pg_dumpall --globals-only (roles, tablespaces) into out, and wait
---for it. Raises like ff.pg.dump. Dry-run: checks target and that out is
---given, and returns the result's shape with planned values.
---@param opts FfPgGlobalsOpts
---@return FfPgDumpResult
function ff.pg.globals(opts) end

---Read. pg_restore --list of an archive (the whole output in the evidence
---raw/). Raises when the archive cannot be opened (outside the jail: a
---violation) or pg_restore is not found.
---@param path string
---@param major? integer
---@return boolean? ok pg_restore exited 0; nil when it could not be started
---@return string toc_or_err the table of contents (last 1 MiB of its output, or pg_restore's complaint), or why it failed
---@return string? raw "raw/pg_restore-list.txt" (".2"...) in ff.run.dir
function ff.pg.archive_list(path, major) end

---Read. Read the whole archive with pg_restore (to /dev/null): a truncated
---archive still lists its TOC, but fails here. Raises like archive_list.
---@param path string
---@param major? integer
---@return boolean? ok pg_restore exited 0; nil when it could not be started
---@return string message_or_err the last 2 KiB of pg_restore's output, or why it failed
---@return string? raw "raw/pg_restore-read.log" (".2"...) in ff.run.dir
function ff.pg.archive_read(path, major) end

---Read. First line of `<tool> --version`, e.g. "pg_dump (PostgreSQL) 15.8".
---Another tool name raises.
---@param tool "pg_dump"|"pg_restore"|"pg_dumpall"|"initdb"|"postgres"
---@param major? integer
---@return string? version nil when the tool is not found or fails
---@return string? err
---@return string? code on failure: "fail", "usage", "busy", "sandbox" or "internal"
function ff.pg.version(tool, major) end

---Read: it runs in --dry-run too (a rehearsal proves confirm=). Open the
---only handle that changes a server. confirm must equal the target's
---database name, else a usage error (exit 2). Raises when the target is
---unknown or ephemeral, or when the server cannot be reached ("postgres",
---the maintenance database the handle uses). A target database that does
---not exist is no error: live() says so, and create_database and swap
---then put a copy under its name.
---@param target string
---@param confirm string the target's database name
---@return FfPgAdmin
function ff.pg.admin(target, confirm) end

---An admin handle (ff.pg.admin, or instance:admin() where every name is
---allowed). On a server target it creates, restores into, drops and swaps
---in only databases named `<live>__ff…`; another name, an empty one or one
---longer than 63 bytes is a violation (exit 3, checked in a real run
---only). Closed by `<close>`, garbage collection or the end of the run.
---@class (exact) FfPgAdmin
local FfPgAdmin = {}

---Read. The live (target's) database name ("" for an instance's handle),
---and whether it exists (false when it was dropped or lost).
---@return string name
---@return boolean exists
function FfPgAdmin:live() end

---Read. Every database of the server, sorted ({} for a dry instance's handle).
---@return string[]? names
---@return string? err
---@return string? code on failure: "fail", "usage", "busy", "sandbox" or "internal"
function FfPgAdmin:databases() end

---@class FfPgArchiveDb
---@field archive string the backup's db.dump (through the jail)
---@field from string the source database's name, as the archive names it
---@field major? integer pg_restore's major version

---Write. With `archive`: create `name` as the archive's own DATABASE
---entry creates `from` (encoding, collation, ctype, locale provider, ICU
---locale, owner), read with pg_restore --create -L and renamed; a statement
---ffrun does not know is refused. Without: an empty database from
---template0 with the live database's owner, encoding and locale (on an
---instance: UTF8; when the live database is gone: the server's defaults).
---Dry-run: reads the archive's entry, creates nothing.
---@param name string `<live>__ff…`
---@param archive? FfPgArchiveDb
---@return true? ok
---@return string? err
---@return string? code on failure: "fail", "usage", "busy", "sandbox" or "internal"
function FfPgAdmin:create_database(name, archive) end

---Write. The archive's database-level properties (ALTER DATABASE … SET,
---ALTER ROLE … IN DATABASE … SET, GRANTs, comment, connection limit),
---renamed onto `name` and run on a connection to it. Call it after
---pg_restore: a setting such as default_transaction_read_only must not
---meet the restore. Dry-run: reads the archive, runs nothing.
---@param name string `<live>__ff…`
---@param archive FfPgArchiveDb
---@return { applied: integer, statements: string[] }? result
---@return string? err
---@return string? code on failure: "fail", "usage", "busy", "sandbox" or "internal"
function FfPgAdmin:database_properties(name, archive) end

---Write. DROP DATABASE IF EXISTS … WITH (FORCE): only ffrun's own copies, never the live one.
---@param name string `<live>__ff…`
---@return true? ok
---@return string? err
---@return string? code on failure: "fail", "usage", "busy", "sandbox" or "internal"
function FfPgAdmin:drop_database(name) end

---Write. ALTER DATABASE … RENAME TO …: one of ffrun's own copies to another
---own name (restore keeps a failed copy as `<live>__fffailed_<STAMP>`),
---never the live one. Dry-run stand-in: the same name checks.
---@param from string `<live>__ff…`
---@param to string `<live>__ff…`
---@return true? ok
---@return string? err
---@return string? code on failure: "fail", "usage", "busy", "sandbox" or "internal"
function FfPgAdmin:rename_database(from, to) end

---Write. In one transaction (tried up to 5 times): stop new connections to
---the live database, end its sessions, rename live -> old and new -> live.
---When the live database is gone: only new -> live (old is not made), 0.
---Dry-run: 0.
---@param new string `<live>__ff…`, the database that becomes live
---@param old string `<live>__ff…`, the name the live database gets
---@return number? downtime_s nil on failure
---@return string? err
---@return string? code on failure: "fail", "usage", "busy", "sandbox" or "internal"
function FfPgAdmin:swap(new, old) end

---Write. ALTER DATABASE … ALLOW_CONNECTIONS (the live one or `<live>__ff…`).
---@param name string
---@param on boolean
---@return true? ok
---@return string? err
---@return string? code on failure: "fail", "usage", "busy", "sandbox" or "internal"
function FfPgAdmin:allow_connections(name, on) end

---@class (exact) FfPgRestoreResult
---@field ok boolean pg_restore exited 0
---@field output string the last 64 KiB of its output
---@field raw string "raw/pg_restore.log" (".2"...) in ff.run.dir: the whole log, to judge each "pg_restore: error:" against restore.allow_errors
---@field duration_s number
---@field stopped boolean killed because the run was being stopped

---@class (exact) FfPgRestoreOpts
---@field sections? ("pre-data"|"data"|"post-data")[] only these (pg_restore --section), each at most once; absent: the whole archive
---@field list? string a pg_restore --list text (`ID;` lines; `;` comments one out): only its entries (pg_restore --use-list, the file written in the run's private folder)

---Write. pg_restore --jobs into one of ffrun's databases, the whole archive
---or only `opts.sections` / the entries of `opts.list`. Raises when the archive cannot be opened
---(outside the jail: a violation), pg_restore is not found, or a section
---is not one of the three. Dry-run: the same checks, and a result of the
---same shape (`ok = true`, `raw = "(planned)"`, `duration_s = 0`).
---@param database string `<live>__ff…`
---@param archive string
---@param jobs? integer default 1
---@param major? integer
---@param estimate_bytes? integer the source database's size: progress shows the restored size against it, with an ETA
---@param opts? FfPgRestoreOpts
---@return FfPgRestoreResult? result nil when pg_restore could not be started
---@return string? err
---@return string? code on failure: "fail", "usage", "busy", "sandbox" or "internal"
function FfPgAdmin:restore(database, archive, jobs, major, estimate_bytes, opts) end

---@class (exact) FfPgLoadResult
---@field ok boolean true (a failed load is nil, message)
---@field rows integer the rows the sessions' COPYs report, all together
---@field bytes integer of COPY text sent
---@field copy string the COPY statement pg_restore wrote ("(planned)" in a rehearsal)
---@field output string the last 16 KiB of pg_restore's messages
---@field raw string "raw/pg_restore-table.log" (".2"...) in ff.run.dir
---@field duration_s number
---@field stopped boolean false

---Write. One table's data, the archive's TOC entry `entry` (a TABLE DATA
---id from pg_restore --list), loaded over `jobs` sessions at once:
---pg_restore writes the entry's COPY (-L, -f -) and its rows go out in
---line-aligned chunks to `jobs` COPY FROM STDIN sessions of the database,
---each in a transaction, committed only once every session took its rows.
---pg_restore -j loads a table with one worker. A failure (a session's
---server error, pg_restore's, text that is not one table's COPY) before
---the commits rolls every session back; any failure is nil, message
---naming the table and the session. Constant memory. Raises like admin:restore. Dry-run: the same
---checks and a result of the same shape (`rows = 0`, `raw = "(planned)"`).
---@param database string `<live>__ff…` (any in a throwaway instance)
---@param archive string
---@param entry integer the TOC entry's id
---@param jobs? integer sessions, 1 to 16 (default 1)
---@param major? integer
---@param estimate_bytes? integer progress against it, as admin:restore
---@return FfPgLoadResult? result
---@return string? err
---@return string? code on failure: "fail", "usage", "busy", "sandbox" or "internal"
function FfPgAdmin:load_table(database, archive, entry, jobs, major, estimate_bytes) end

---@class (exact) FfPgGlobalsApplied
---@field applied integer statements that succeeded
---@field existing string[] errors for objects that already exist (a role): reported, not fatal
---@field errors string[] every other error

---Write. Apply a globals.sql (pg_dumpall output) statement by statement on
---the maintenance connection: one statement a line, comments and psql
---meta-commands skipped. Raises when the file cannot be opened (outside
---the jail: a violation) or is over 16 MiB. Dry-run: the file is checked
---readable, and `{ applied = 0, existing = {}, errors = {} }`.
---@param file string
---@return FfPgGlobalsApplied
function FfPgAdmin:apply_globals(file) end

---@class FfPgInstanceRestore
---@field from string a target with engine pgbackrest: its stanza and pgbackrest.conf
---@field set string the pgBackRest backup label (pgbackrest restore --set)
---@field repo? integer the repository the set is in (--repo=N, 1 to 256); 0 or absent: pgBackRest's default
---@field type "lsn"|"time"|"name"|"immediate" the recovery target's kind (--type)
---@field target? string the LSN (X/X), time or restore point name (--target); absent for immediate
---@field exclusive? boolean stop just before the target (--target-exclusive)
---@field timeout_s? integer for recovery to end in promotion (default 600)
---@field wal_segment_size? integer the source's WAL segment size in bytes, to name a missing segment (default 16 MiB)
---@field beside? string "restore_STAMP": restore into the new folder <pg1-path>.ffrestore_STAMP beside production's data folder (made by the call from the stanza's pg1-path, never from a path given here) and keep it for ff.pgbackrest.switch: production's durability, archive_mode on with archive_command=false, no tablespaces; inst:release() keeps it, stop() removes it

---@class FfPgInstanceOpts
---@field major? integer
---@field restore? FfPgInstanceRestore instead of initdb: pgbackrest restore into the instance's own data folder (--pg1-path and --tablespace-map-all are the instance's, never production's), a start in recovery with archive_mode off and its own pg_hba.conf, and a wait until promoted

---@class (exact) FfPgInstanceInfo
---@field folder string its folder (the data folder is folder/data)
---@field socket string its socket folder
---@field port integer
---@field restore_s number restored instances: pgbackrest restore's time (0 otherwise)
---@field recover_s number restored instances: from start to promotion (0 otherwise)

---A throwaway server (at most 4 at once). Stopped and removed by stop(),
---`<close>`, garbage collection (keep a reference) or the end of the run.
---In --dry-run the stand-in is an instance handle of the same class,
---planned: info() gives "(planned)" folders and port 0, connect() fails as
---a connection does, admin() plans every write, stop() and amcheck() are
---planned.
---@class (exact) FfPgInstance
local FfPgInstance = {}

---Read. An admin handle over the whole instance (every name allowed).
---Raises when the instance is not running or cannot be reached. Dry-run
---stand-in: an admin handle with no server, whose writes are planned.
---@return FfPgAdmin
function FfPgInstance:admin() end

---Read. Connect to one of its databases. Raises when the instance is not
---running. Dry-run stand-in: `nil, "dry-run: the instance is only planned"`.
---@param dbname string
---@return FfPgConn? conn
---@return string? err
---@return string? code on failure: "fail", "usage", "busy", "sandbox" or "internal"
function FfPgInstance:connect(dbname) end

---Read. Where it runs. Raises when the instance is not running. Dry-run stand-in: true.
---@return FfPgInstanceInfo|true
function FfPgInstance:info() end

---Write. Stop the server and remove its folder (again is harmless).
---@return true
function FfPgInstance:stop() end

---Write. An instance restored with restore.beside: its server stopped
---cleanly (pg_ctl stop -m fast) and its private folder removed; the data
---folder beside production's is kept, and its path returned: as it is
---(`<data>.ffrestore_<STAMP>`, for ff.pgbackrest.switch), or with kind
---"failed" renamed `<data>.fffailed_<STAMP>`, a failed copy kept that the
---next restore does not reap (prune confirm= removes it). Raises when the
---instance was not restored beside. Dry-run stand-in: "(planned)".
---@param kind? "switch"|"failed" default "switch"
---@return string? data
---@return string? err
---@return string? code on failure: "fail", "usage", "busy", "sandbox" or "internal"
function FfPgInstance:release(kind) end

---@class (exact) FfPgAmcheckOpts
---@field jobs? integer concurrent connections (0 or absent: one per core)
---@field timeout_s? integer stop it after this long (0 or absent: no limit)

---@class (exact) FfPgAmcheckResult
---@field ok boolean no corruption found
---@field corrupt boolean pg_amcheck found corruption (its exit status 2)
---@field duration_s number 0 in the dry stand-in
---@field problems integer reports in pg_amcheck's output ("heap table …:", "btree index …:")
---@field relations string[] the distinct relations named, "db.schema.rel", the first 16
---@field summary string the first reports on one line ("" when none)
---@field raw string "raw/pg_amcheck.log" (".2"...) in ff.run.dir: the whole report ("(planned)" in a dry-run)
---@field dry_run? boolean true for the stand-in returned by --dry-run

---Write (it installs the amcheck extension into dbname). Physical
---integrity: the instance's own pg_amcheck --heapallindexed
-----install-missing --jobs=N over its socket, on every table (TOAST too)
---and btree index of dbname, the catalogs included. Corruption is an
---answer (ok false, the relations named); a check that could not be done
---(pg_amcheck exit 1: no such database…; stopped) is nil, message, code.
---Raises when the instance is not running, dbname is not 1 to 63 bytes,
---opts has a negative value, or pg_amcheck is missing from its bindir.
---Dry-run stand-in: the same checks, `{ ok = true, corrupt = false,
---duration_s = 0, problems = 0, relations = {}, summary = "",
---raw = "(planned)", dry_run = true }`.
---@param dbname string
---@param opts? FfPgAmcheckOpts
---@return FfPgAmcheckResult? result
---@return string? err
---@return string? code on failure: "fail", "usage", "busy", "sandbox" or "internal"
function FfPgInstance:amcheck(dbname, opts) end

---Write. initdb and start a private server in a temporary folder, as
---postgres.os_user when ffrun runs as root (leftovers of a crashed ffrun
---are reaped first). With opts.restore, pgbackrest restore instead of
---initdb, then recovery and promotion; a recovery that ends short of its
---target fails naming the WAL segment it could not restore (the server's
---log goes to raw/instance.log). Raises when initdb is not found, 4
---instances already exist, or a restore option is not valid (a target
---without engine pgbackrest, a value that is not an LSN, time or name).
---Dry-run: a stand-in (see FfPgInstance), after the same checks.
---@param opts? FfPgInstanceOpts
---@return FfPgInstance? instance nil when it could not be made
---@return string? err
---@return string? code on failure: "fail", "usage", "busy", "sandbox" or "internal"
function ff.pg.instance(opts) end

------------------------------------------------------------------------------
-- ff.pg.logical_snapshot: a proof point (host/lua/l_pg_slot.c,
-- host/core/replslot.c).
------------------------------------------------------------------------------

---@class (exact) FfPgSlotPoint
---@field lsn string the slot's consistent point L ("X/X"): the snapshot sees exactly the transactions committed before it
---@field snapshot string the exported snapshot, for conn:use_snapshot while the slot is open
---@field slot string the temporary slot's name (ffrun_<pid>_<n>)
---@field planned boolean true for the dry-run stand-in ("0/0", "(planned)")

---A replication connection holding a temporary logical slot. close(),
---`<close>` or garbage collection ends the connection; the slot goes with it.
---@class (exact) FfPgSlot
local FfPgSlot = {}

---Read. The proof point. Raises once closed.
---@return FfPgSlotPoint
function FfPgSlot:point() end

---Read. End the replication connection (the slot is dropped); again is harmless.
---@return true
function FfPgSlot:close() end

---Write (a slot holds back the server's WAL and xmin while it lives). A
---replication=database connection to target and CREATE_REPLICATION_SLOT
---ffrun_<pid>_<n> TEMPORARY LOGICAL pgoutput (SNAPSHOT 'export') (the
---source needs wal_level logical, a free slot and wal sender, and the
---REPLICATION attribute). Waits at most opts.timeout_s (default 300) for
---older transactions. Raises for an unknown or ephemeral target. Dry-run
---stand-in: a slot handle of the same class whose point() is planned.
---@param target string
---@param opts? { timeout_s?: integer }
---@return FfPgSlot? slot
---@return string? err
---@return string? code on failure: "fail", "usage", "busy", "sandbox" or "internal"
function ff.pg.logical_snapshot(target, opts) end

------------------------------------------------------------------------------
-- ff.pgbackrest: pgBackRest for a target whose engine is pgbackrest
-- (host/lua/l_pgbackrest.c, host/core/pgbackrest.c). /usr/bin/pgbackrest
-- --config=<target's> --stanza=<target's> COMMAND, argv built by the host,
-- as postgres.os_user when ffrun is root, libpq's and pgBackRest's PG*
-- environment variables passed. Each raises for a target without engine
-- pgbackrest; nil, message, code when pgbackrest could not be started.
------------------------------------------------------------------------------

---@class (exact) FfPgbackrestResult
---@field ok boolean exit status 0
---@field code integer exit status (or the signal that ended it)
---@field timed_out boolean
---@field output string stdout (info's JSON), at most 4 MiB
---@field output_cut boolean stdout was longer
---@field tail string the last 2 KiB of stderr
---@field raw string "raw/pgbackrest-<command>.log" in ff.run.dir: all of stderr ("(planned)" in a dry-run)
---@field duration_s number
---@field dry_run? boolean true for a stand-in

---@class (exact) FfPgbackrest
ff.pgbackrest = {}

---Write (it switches a WAL segment on the server). pgbackrest check.
---Dry-run stand-in: `{ ok = true, code = 0, output = "", raw = "(planned)", dry_run = true, ... }`.
---@param target string
---@return FfPgbackrestResult? result
---@return string? err
---@return string? code
function ff.pgbackrest.check(target) end

---Write. pgbackrest backup --no-expire-auto --type=type [--repo=repo] (no
---time limit; a signal stops it; sets expire in prune). Raises for a type other than full, diff or incr, or a
---repo outside 1 to 256. Dry-run stand-in as check's.
---@param target string
---@param type "full"|"diff"|"incr"
---@param repo? integer the repository the set goes to (absent or 0: pgBackRest's default, repo1)
---@return FfPgbackrestResult? result
---@return string? err
---@return string? code
function ff.pgbackrest.backup(target, type, repo) end

---Read. pgbackrest verify --repo=repo --output=text --verbose: output is
---its text (`status: ok|error`, then each archive id's and backup set's
---line and counts). pgBackRest exits 0 even when it found invalid files:
---the text says. Raises for a repo outside 1 to 256.
---@param target string
---@param repo integer
---@return FfPgbackrestResult? result
---@return string? err
---@return string? code
function ff.pgbackrest.verify(target, repo) end

---Read. pgbackrest repo-ls --repo=repo --output=text
---archive/<stanza>/<archive_id>/<dir>: output is the WAL files there, one
---name a line. Raises for a repo outside 1 to 256, an archive_id that is
---not MAJOR-N (pgbackrest info's), or a dir that is not 16 hex digits.
---@param target string
---@param repo integer
---@param archive_id string e.g. "15-1"
---@param dir string a WAL folder: timeline and log id, e.g. "0000000100000000"
---@return FfPgbackrestResult? result
---@return string? err
---@return string? code
function ff.pgbackrest.wal_list(target, repo, archive_id, dir) end

---Read. pgbackrest expire --repo=repo --dry-run --log-level-console=info
-----log-level-stderr=off:
---output holds one "repoN: remove expired backup LABEL" line for each set
---the repository's retention would expire.
---@param target string
---@param repo integer
---@return FfPgbackrestResult? result
---@return string? err
---@return string? code
function ff.pgbackrest.expire_plan(target, repo) end

---Write. pgbackrest expire --repo=repo --set=label, with the repository's
---retention-full and retention-archive at their maximum for the call: that
---set, the sets that depend on it, and the WAL only they needed. Raises for
---a label that is not one. Dry-run stand-in as check's.
---@param target string
---@param repo integer
---@param label string
---@return FfPgbackrestResult? result
---@return string? err
---@return string? code
function ff.pgbackrest.expire(target, repo, label) end

---Write. pgbackrest expire --repo=repo with the repository's retention set
---for the call to keep `fulls` full sets, every diff, and the WAL of all of
---them (retention-full-type count, retention-full and retention-archive =
---fulls, retention-archive-type full, retention-diff at its maximum): with
---fulls the number of full sets it has, no set goes and the WAL older than
---the oldest does. Raises for fulls outside 1 to 9999999. Dry-run
---stand-in as check's.
---@param target string
---@param repo integer
---@param fulls integer
---@return FfPgbackrestResult? result
---@return string? err
---@return string? code
function ff.pgbackrest.expire_wal(target, repo, fulls) end

---Read. pgbackrest info --output=json [--set=label]. Raises for a label
---that is not one.
---@param target string
---@param label? string
---@return FfPgbackrestResult? result
---@return string? err
---@return string? code
function ff.pgbackrest.info(target, label) end

---@class (exact) FfPgbackrestLive
---@field data string the live data folder: the stanza's pg1-path as pgBackRest resolves it (`pgbackrest help restore pg1-path`)
---@field running boolean a server runs from it (its postmaster.pid names a live postmaster of that folder)
---@field free_bytes integer free space of the file system it is in (-1: not known)

---Read. The live cluster a physical restore or rollback switches, opened
---like ff.pg.admin: confirm must be the target's database name (known
---from the configuration with the server down too), else exit 2. Raises
---when target has no engine pgbackrest or pgBackRest names no pg1-path.
---@param target string
---@param confirm string
---@return FfPgbackrestLive
function ff.pgbackrest.live(target, confirm) end

---Write. The exclusive lock of the target's cluster: flock on
---<data>.fflock beside the live data folder (the stanza's pg1-path),
---created 0600, never through a symlink; held until lock:release(),
---`<close>` or the end of the run. Taken by restore, rollback and prune
---(proof.target_lock), so runs of different configurations on one cluster
---exclude each other. Busy: exit 4 naming the file and its holder.
---confirm: the target's database name, as for live (exit 2 otherwise,
---before the file is made). Dry-run stand-in: the same check, and that
---nobody holds it; creates nothing.
---@param target string
---@param confirm string
---@return FfLock? lock
---@return string? err
---@return string? code
function ff.pgbackrest.lock(target, confirm) end

---Read. The suffixes ("KIND_STAMP", sorted) of the folders
---<data>.ffKIND_* beside the live data folder: "prev" for those a restore
---set aside, "bad" for those a rollback replaced, "failed" for a failed
---copy keep_failed=true kept; "rmprev", "rmbad", "rmfailed" for what a
---removal that stopped left (remove_aside).
---@param target string
---@param kind string a lower-case word
---@return string[]? suffixes
---@return string? err
---@return string? code
function ff.pgbackrest.set_aside(target, kind) end

---Write. Remove the folder <data>.ff<suffix> beside the live data folder,
---one a restore set aside ("prev_STAMP", or a failed copy kept:
---"failed_STAMP") or a rollback replaced ("bad_STAMP"), whole. It is renamed <data>.ffrm<suffix> first, so a
---removal that stops half-way (nil, message naming what is left) leaves
---nothing set_aside lists as "prev" or "bad"; such a leftover, listed by
---set_aside(target, "rmprev") or "rmbad", is removed with its own suffix.
---confirm as for live (exit 2); any other suffix raises. Refused (nil,
---message) for what is not a folder and while the process its
---postmaster.pid names runs. Dry-run stand-in: the same checks, nothing
---removed.
---@param target string
---@param confirm string
---@param suffix string "prev_STAMP", "bad_STAMP", "failed_STAMP" (or "rmprev_STAMP" …), as set_aside lists them
---@return true? ok
---@return string? err
---@return string? code on failure: "fail", "usage", "busy", "sandbox" or "internal"
function ff.pgbackrest.remove_aside(target, confirm, suffix) end

---@class (exact) FfPgbackrestSwitch
---@field data string the live data folder
---@field kept string where the replaced folder is now ("" when there was none)
---@field was_running boolean a server ran from it and was stopped
---@field downtime_s number from the stop to the new server taking connections
---@field server_log string the started server's output (pg_ctl -l): <data>.ffrun.log
---@field dry_run? boolean the stand-in's answer

---Write: the only call that stops and replaces a production cluster. The
---folder <data>.ff<incoming> takes the live data folder's place: the live
---server is stopped (pg_ctl stop -m fast), the copy gets its
---postmaster.opts and loses pgBackRest's spent recovery settings, the two
---folders are exchanged in one renameat2(RENAME_EXCHANGE), the old one is
---renamed <data>.ff<outgoing>, and the server is started as its last start
---did (pg_ctl restart) as postgres.os_user. A start that fails swaps back
---and starts the old server again (nil, message saying so). confirm as
---for live (exit 2). Dry-run stand-in: the same checks, nothing stopped
---or moved, { was_running = true, kept = <data>.ff<outgoing>, downtime_s = 0, dry_run = true }.
---@param target string
---@param confirm string
---@param incoming string "KIND_STAMP", e.g. "restore_20261203-091500"
---@param outgoing string "KIND_STAMP", e.g. "prev_20261203-091500"
---@param opts? { stop_timeout_s?: integer, start_timeout_s?: integer } defaults 300 and 600
---@return FfPgbackrestSwitch? result
---@return string? err
---@return string? code on failure: "fail", "usage", "busy", "sandbox" or "internal"
function ff.pgbackrest.switch(target, confirm, incoming, outgoing, opts) end
