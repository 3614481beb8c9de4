/* signals.h - the stop signals a run answers (SIGINT, SIGTERM, SIGHUP). */
#ifndef FF_SIGNALS_H
#define FF_SIGNALS_H

/* "SIGTERM" and the like, for messages; "a signal" for any other. */
const char *ff_signal_name(int sig);

#endif
