/* evidence.h - the run folder of SPEC §7: events.jsonl as a hash chain,
 * raw/ captures, summary.json and a sha256sum-compatible DIGEST.
 *
 * Every write goes through one mutex: the watchdog thread may have to seal
 * the evidence of a run whose main thread is stuck inside C. */
#ifndef FF_EVIDENCE_H
#define FF_EVIDENCE_H

#include <pthread.h>
#include <stdint.h>
#include <stddef.h>

#include "err.h"
#include "hash.h"

typedef struct ff_evidence {
	char *dir;       /* absolute path of the run folder */
	char *run_id;
	int dirfd;       /* the run folder, O_DIRECTORY */
	int rawfd;       /* raw/ */
	int events_fd;   /* events.jsonl, append */
	unsigned long long seq;
	char prev[FF_SHA256_HEX]; /* sha256 of the last line written */
	pthread_mutex_t lock;
	int sealed;
} ff_evidence;

/* Create <root>/<stamp>-<name>[-N]/ with raw/ (root is created 0700 when
 * missing). */
int ff_evidence_open(ff_evidence *ev, const char *root, const char *stamp,
		     const char *name, ff_err *e);
void ff_evidence_close(ff_evidence *ev);

/* Append one event. details is a JSON object's members without braces
 * (`"k":1,"x":"y"`) or NULL. ts is added here. */
int ff_evidence_event(ff_evidence *ev, const char *step, const char *event,
		      const char *details);

/* Create raw/<name> (made unique with a numeric suffix when taken) for
 * writing; *fd is O_WRONLY, 0600. relpath (may be NULL, 256 bytes) gets
 * "raw/<final name>". */
int ff_evidence_raw_open(ff_evidence *ev, int *fd, char relpath[256],
			 const char *name, ff_err *e);

/* Write summary.json, fsync, then DIGEST over every file of the folder.
 * Idempotent: a second call does nothing (the first seal wins). */
int ff_evidence_seal(ff_evidence *ev, const char *summary_json, ff_err *e);

/* --- checks, shared by `verify` and the tests -------------------------- */

/* Report a problem found while checking; msg is one line. */
typedef void (*ff_problem_fn)(void *arg, const char *msg);

/* A file's digest already taken while it was written (a dump streamed
 * through sha256): used when the file still has that size. */
typedef struct ff_known_digest {
	const char *path;   /* relative, as in the DIGEST */
	const char *sha256; /* 64 hex digits */
	uint64_t bytes;
} ff_known_digest;

/* Write DIGEST in dirfd over every regular file below it (sorted, relative
 * paths, DIGEST itself excluded); files in known are not read again. */
int ff_digest_write(int dirfd, const ff_known_digest *known, size_t nknown, ff_err *e);

/* Check dirfd against its DIGEST: every listed file's sha256, every file
 * present listed. Returns the number of problems (0 = intact) or a negative
 * code when the check itself could not run. */
int ff_digest_verify(int dirfd, ff_problem_fn problem, void *arg, ff_err *e);

/* Check the events.jsonl hash chain in dirfd: seq from 1 without gaps,
 * every prev equal to the sha256 of the line before. last_hex / count
 * (may be NULL) receive the last line's digest and the line count, which
 * summary.json anchors so a removed last line is caught too. */
int ff_events_verify(int dirfd, char last_hex[FF_SHA256_HEX],
		     unsigned long long *count, ff_problem_fn problem, void *arg,
		     ff_err *e);

#endif
