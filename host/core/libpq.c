#include "libpq.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* The one piece of process-wide state in the host: like the dynamic
 * loader's own tables it is written once, under pthread_once, before any
 * reader can exist, and never changes after. */
static struct {
	pthread_once_t once;
	ff_libpq fn;
	ff_err err; /* why the load failed; code 0 when it did not */
} libpq = {.once = PTHREAD_ONCE_INIT};

static void load_once(void)
{
	/* The soname the headers were built for; RTLD_LOCAL keeps libpq's
	 * own libcrypto/libssl symbols out of the global scope. */
	void *h = dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *why = dlerror();
		ff_err_set(&libpq.err, FF_EFAIL, "cannot load libpq: %s",
			   why ? why : "unknown dlopen error");
		return;
	}
	void *sym;
#define FF_LIBPQ_RESOLVE(ret, name, params)                                       \
	if (!(sym = dlsym(h, #name))) {                                           \
		ff_err_set(&libpq.err, FF_EFAIL, "libpq.so.5 has no %s", #name);  \
		dlclose(h);                                                       \
		return;                                                           \
	}                                                                         \
	memcpy(&libpq.fn.name, &sym, sizeof(sym));
	FF_LIBPQ_FUNCTIONS(FF_LIBPQ_RESOLVE)
#undef FF_LIBPQ_RESOLVE
	/* The handle stays open for the life of the process. */
}

int ff_libpq_load(ff_err *e)
{
	pthread_once(&libpq.once, load_once);
	if (libpq.err.code)
		return ff_err_set(e, libpq.err.code, "%s", libpq.err.msg);
	return 0;
}

const ff_libpq *ff_pq(void)
{
	if (!libpq.fn.PQlibVersion)
		abort(); /* a PGconn without a loaded libpq: a host bug */
	return &libpq.fn;
}
