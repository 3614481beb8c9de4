#include "err.h"

#include <stdio.h>

int ff_err_setv(ff_err *e, int code, const char *fmt, va_list ap)
{
	if (e) {
		e->code = code;
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	}
	return code;
}

int ff_err_set(ff_err *e, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ff_err_setv(e, code, fmt, ap);
	va_end(ap);
	return code;
}

int ff_err_exit_status(int code)
{
	switch (code) {
	case FF_OK: return 0;
	case FF_EFAIL: return 1;
	case FF_EUSAGE: return 2;
	case FF_ESANDBOX: return 3;
	case FF_EBUSY: return 4;
	default: return 70;
	}
}
