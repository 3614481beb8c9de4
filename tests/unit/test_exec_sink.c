/* The stdout sink of ff_exec_run: a child's stdout reaches the sink byte
 * for byte and apart from stderr; a failing sink stops the child and the
 * run reports the sink's errno. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "core/exec.h"
#include "core/hash.h"

typedef struct {
	ff_sha256 *h;
	size_t bytes, fail_after;
	int err;
} sink_state;

static int sink(void *arg, const char *p, size_t n)
{
	sink_state *s = arg;
	if (s->fail_after && s->bytes + n > s->fail_after) {
		s->err = ENOSPC;
		return -1;
	}
	ff_sha256_update(s->h, p, n);
	s->bytes += n;
	return 0;
}

int main(void)
{
	char tmpl[] = "/tmp/ffsink-XXXXXX";
	int errfd = mkstemp(tmpl);
	unlink(tmpl);

	/* 8 MiB of a known pattern on stdout, a line on stderr. */
	const char *argv[] = { "/bin/sh", "-c",
		"head -c 8388608 /dev/zero | tr '\\0' 'x'; echo on-stderr >&2", NULL };
	sink_state s = { .h = ff_sha256_new() };
	ff_exec_opts o = { .out_fd = errfd, .stdout_sink = sink, .stdout_arg = &s,
			   .stdout_errno = &s.err, .tail_max = 256 };
	ff_exec_result r;
	ff_err e = {0};
	CHECK(ff_exec_run(&r, argv, &o, &e) == 0);
	CHECK(r.exited && r.status == 0);
	CHECK(s.bytes == 8388608);
	char got[FF_SHA256_HEX], want[FF_SHA256_HEX];
	ff_sha256_final(s.h, got);
	char *x = malloc(8388608);
	memset(x, 'x', 8388608);
	ff_sha256_hex(want, x, 8388608);
	free(x);
	CHECK_STR(got, want);
	CHECK(r.tail && strstr(r.tail, "on-stderr") && !strchr(r.tail, 'x'));
	ff_exec_result_free(&r);

	/* A sink that fails (a full disk) stops an endless producer. */
	const char *endless[] = { "/bin/sh", "-c", "yes dump-data", NULL };
	sink_state f = { .h = ff_sha256_new(), .fail_after = 1 << 20 };
	ff_exec_opts fo = { .out_fd = -1, .stdout_sink = sink, .stdout_arg = &f,
			    .stdout_errno = &f.err, .timeout_s = 20 };
	CHECK(ff_exec_run(&r, endless, &fo, &e) < 0);
	CHECK(strstr(e.msg, "No space left on device") != NULL);
	CHECK(r.duration_s < 5);
	ff_exec_result_free(&r);

	ff_sha256_free(s.h);
	ff_sha256_free(f.h);
	close(errfd);
	return check_summary();
}
