/* switchover.h - a physical restore's switch-over: the live cluster's data
 * folder and a proven copy beside it change places, and the server starts
 * from the copy. At every instant the live path holds a whole data folder,
 * the old one or the new one (one renameat2 RENAME_EXCHANGE); the old one
 * is kept beside, for a rollback that is the same call the other way. */
#ifndef FF_SWITCHOVER_H
#define FF_SWITCHOVER_H

#include <limits.h>

#include "err.h"
#include "strlist.h"

typedef struct ff_switch_opts {
	const char *bindir;      /* pg_ctl's folder */
	const char *os_user;     /* the cluster's owner, when ffrun is root */
	const char *live;        /* the live data folder (absolute) */
	const char *incoming;    /* a sibling <live>.ff<kind>_<stamp>: takes its place */
	const char *outgoing;    /* a new sibling name: where the live one is kept */
	double stop_timeout_s;   /* for the live server's fast shutdown */
	double start_timeout_s;  /* for the new one to accept connections */
	int log_fd;              /* pg_ctl's output */
	const volatile int *cancel;
} ff_switch_opts;

typedef struct ff_switch_result {
	int was_running;         /* a live server ran, and was stopped */
	int kept;                /* there was a live folder: it is at outgoing */
	double downtime_s;       /* from the stop to the new server taking connections */
	char server_log[PATH_MAX + 16]; /* the started server's output (pg_ctl -l) */
} ff_switch_result;

/* Stop the live server (pg_ctl stop -m fast), give incoming the options of
 * its last start (postmaster.opts: pg_ctl restart starts it as it was),
 * swap the folders, start. incoming must hold a cluster no server runs
 * from; outgoing must not exist. A start that fails swaps back and starts
 * the old server again when it ran (the error says what happened). */
int ff_switchover(const ff_switch_opts *o, ff_switch_result *r, ff_err *e);

/* The suffixes (<kind>_<stamp>) of the folders <live>.ff<kind>_* beside
 * live, sorted. */
int ff_switch_list(const char *live, const char *kind, ff_strlist *out, ff_err *e);

/* rm -rf of <live>.ff<suffix>, a folder a restore (prev_STAMP, or a failed
 * copy kept: failed_STAMP) or a rollback (bad_STAMP) set aside: refused
 * for any other kind, for what is not a folder, and while a server runs
 * from it. It is renamed <live>.ffrm<suffix> first, so what a removal
 * that stops leaves is never listed as one of those; such a leftover
 * (rmprev_STAMP, rmbad_STAMP, rmfailed_STAMP) is removed as it is.
 * dry_run: the checks, nothing removed. */
int ff_switch_remove(const char *live, const char *suffix, int dry_run, ff_err *e);

/* True when s is a suffix ffrun names such a folder with: a kind (letters)
 * '_' and a stamp (digits, '-', at most 40 bytes in all). */
int ff_switch_valid_suffix(const char *s);

#endif
