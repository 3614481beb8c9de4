/* err.h - the error record every core function fills on failure.
 *
 * Core functions return 0 on success or a negative FF_E* code, and
 * describe the failure in an ff_err the caller owns (libgit2 style).
 * The exit status a failure maps to is decided in main.c, not here. */
#ifndef FF_ERR_H
#define FF_ERR_H

#include <stdarg.h>

enum {
	FF_OK = 0,
	FF_EFAIL = -1,     /* an operation failed (I/O, child, verification) */
	FF_EUSAGE = -2,    /* bad input from the operator: CLI, config, params */
	FF_ESANDBOX = -3,  /* a forbidden call or a limit */
	FF_EBUSY = -4,     /* another run holds the lock */
	FF_EINTERNAL = -70 /* a bug or an impossible state */
};

typedef struct ff_err {
	int code;       /* one of FF_E*, 0 when unset */
	char msg[1024]; /* one line, no trailing newline */
} ff_err;

/* Set *e (when e is not NULL) and return code, so callers can write
 * `return ff_err_set(e, FF_EFAIL, "open %s: %s", p, strerror(errno));`. */
int ff_err_set(ff_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int ff_err_setv(ff_err *e, int code, const char *fmt, va_list ap);

/* The process exit status for an error code (0, 1, 2, 3, 4 or 70). */
int ff_err_exit_status(int code);

#endif
