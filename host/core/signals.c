/* signals.c - names of the stop signals (signals.h). */
#include "signals.h"

#include <signal.h>

const char *ff_signal_name(int sig)
{
	switch (sig) {
	case SIGINT: return "SIGINT";
	case SIGTERM: return "SIGTERM";
	case SIGHUP: return "SIGHUP";
	default: return "a signal";
	}
}
