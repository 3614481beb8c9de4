#include "evidence.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "fsutil.h"
#include "jsonw.h"
#include "strlist.h"

int ff_evidence_open(ff_evidence *ev, const char *root, const char *stamp,
		     const char *name, ff_err *e)
{
	int err;
	char id[256], path[4096];

	memset(ev, 0, sizeof(*ev));
	ev->dirfd = ev->rawfd = ev->events_fd = -1;
	pthread_mutex_init(&ev->lock, NULL);
	memset(ev->prev, '0', 64);
	ev->prev[64] = '\0';

	if ((err = ff_mkdir_p(root, e)) < 0)
		return err;
	for (int n = 1; ; n++) {
		if (n == 1)
			snprintf(id, sizeof(id), "%s-%s", stamp, name);
		else
			snprintf(id, sizeof(id), "%s-%s-%d", stamp, name, n);
		snprintf(path, sizeof(path), "%s/%s", root, id);
		if (mkdir(path, 0700) == 0)
			break;
		if (errno != EEXIST || n > 1000)
			return ff_err_set(e, FF_EFAIL, "create evidence folder %s: %s",
					  path, strerror(errno));
	}
	ev->dir = strdup(path);
	ev->run_id = strdup(id);
	ev->dirfd = open(path, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	/* raw/ is made by the first file put there: a run that captures
	 * nothing has no folder to create and fsync. */
	if (ev->dirfd < 0 ||
	    (ev->events_fd = openat(ev->dirfd, "events.jsonl",
				    O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600)) < 0)
		return ff_err_set(e, FF_EFAIL, "evidence folder %s: %s", path, strerror(errno));
	return 0;
}

void ff_evidence_close(ff_evidence *ev)
{
	if (ev->events_fd >= 0)
		close(ev->events_fd);
	if (ev->rawfd >= 0)
		close(ev->rawfd);
	if (ev->dirfd >= 0)
		close(ev->dirfd);
	free(ev->dir);
	free(ev->run_id);
	pthread_mutex_destroy(&ev->lock);
	memset(ev, 0, sizeof(*ev));
	ev->dirfd = ev->rawfd = ev->events_fd = -1;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int ff_evidence_event(ff_evidence *ev, const char *step, const char *event,
		      const char *details)
{
	ff_jsonw w;
	char ts[32];
	int rc = 0;

	pthread_mutex_lock(&ev->lock);
	if (ev->sealed || ev->events_fd < 0) {
		pthread_mutex_unlock(&ev->lock);
		return 0;
	}
	/* seq and prev come first, always: the chain check reads them there. */
	ff_jsonw_init(&w);
	ff_jsonw_obj(&w);
	ff_jsonw_kint(&w, "seq", (long long)++ev->seq);
	ff_jsonw_kstr(&w, "prev", ev->prev);
	ff_time_iso(ts, ff_time_now());
	ff_jsonw_kstr(&w, "ts", ts);
	ff_jsonw_kstr(&w, "step", step);
	ff_jsonw_kstr(&w, "event", event);
	if (details && *details) {
		ff_jsonw_raw(&w, details);
	}
	ff_jsonw_end(&w, '}');
	if (w.oom) {
		rc = -1;
	} else {
		/* The chain hashes the line without its newline. */
		ff_sha256_hex(ev->prev, w.buf, w.len);
		w.buf[w.len] = '\n'; /* the writer keeps a spare byte for its NUL */
		rc = write_all(ev->events_fd, w.buf, w.len + 1);
	}
	pthread_mutex_unlock(&ev->lock);
	ff_jsonw_free(&w);
	return rc;
}

int ff_evidence_raw_open(ff_evidence *ev, int *fd, char relpath[256],
			 const char *name, ff_err *e)
{
	char safe[200], try[240];
	size_t i = 0;

	/* Names come from runbooks: keep them to one plain component. */
	for (const char *p = name; *p && i + 1 < sizeof(safe); p++)
		safe[i++] = (strchr("/\\", *p) || (unsigned char)*p < 0x20) ? '_' : *p;
	safe[i] = '\0';
	if (!i || safe[0] == '.')
		safe[0] = '_';
	if (!i)
		safe[1] = '\0';
	int err = 0;
	pthread_mutex_lock(&ev->lock);
	if (ev->rawfd < 0 && !ev->sealed && ev->dirfd >= 0 &&
	    (mkdirat(ev->dirfd, "raw", 0700) == 0 || errno == EEXIST))
		ev->rawfd = openat(ev->dirfd, "raw", O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	int rawfd = ev->rawfd;
	if (rawfd < 0)
		err = ev->sealed || ev->dirfd < 0 ? EBADF : errno;
	pthread_mutex_unlock(&ev->lock);
	if (rawfd < 0)
		return ff_err_set(e, FF_EFAIL, "evidence raw/: %s", strerror(err));
	for (int n = 1; n < 10000; n++) {
		if (n == 1)
			snprintf(try, sizeof(try), "%s", safe);
		else
			snprintf(try, sizeof(try), "%s.%d", safe, n);
		int f = openat(rawfd, try, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (f >= 0) {
			*fd = f;
			if (relpath)
				snprintf(relpath, 256, "raw/%s", try);
			return 0;
		}
		if (errno != EEXIST)
			return ff_err_set(e, FF_EFAIL, "evidence raw/%s: %s", try, strerror(errno));
	}
	return ff_err_set(e, FF_EFAIL, "evidence raw/%s: too many files", safe);
}

int ff_evidence_seal(ff_evidence *ev, const char *summary_json, ff_err *e)
{
	int rc = 0;
	pthread_mutex_lock(&ev->lock);
	if (ev->sealed || ev->dirfd < 0) {
		pthread_mutex_unlock(&ev->lock);
		return 0;
	}
	ev->sealed = 1;
	/* No fsync here: ff_digest_write fsyncs every file it hashes (events,
	 * summary, raw/), then the DIGEST, then the folders. */
	int f = openat(ev->dirfd, "summary.json", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (f < 0 || write_all(f, summary_json, strlen(summary_json)) < 0 ||
	    write_all(f, "\n", 1) < 0)
		rc = ff_err_set(e, FF_EFAIL, "write %s/summary.json: %s", ev->dir, strerror(errno));
	if (f >= 0)
		close(f);
	if (rc == 0)
		rc = ff_digest_write(ev->dirfd, NULL, 0, e);
	/* Last, the run folder's own name in the evidence root. */
	int root = openat(ev->dirfd, "..", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (root >= 0) {
		fsync(root);
		close(root);
	}
	pthread_mutex_unlock(&ev->lock);
	return rc;
}

/* --- DIGEST ------------------------------------------------------------- */

/* Every entry below dirfd, as relative paths; others lists what is neither
 * a regular file nor a folder (symlinks, fifos): a digest never follows them. */
static int walk(int dirfd, const char *prefix, ff_strlist *files, ff_strlist *others,
		int depth, ff_err *e)
{
	int fd = openat(dirfd, ".", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ff_err_set(e, FF_EFAIL, "open folder %s: %s", *prefix ? prefix : ".", strerror(errno));
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return ff_err_set(e, FF_EFAIL, "read folder: %s", strerror(errno));
	}
	int rc = 0;
	struct dirent *de;
	while (rc == 0 && (de = readdir(d))) {
		char rel[4096];
		struct stat st;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(rel, sizeof(rel), "%s%s", prefix, de->d_name);
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			rc = ff_err_set(e, FF_EFAIL, "stat %s: %s", rel, strerror(errno));
		} else if (S_ISREG(st.st_mode)) {
			if (strcmp(rel, "DIGEST") && ff_strlist_push(files, rel) < 0)
				rc = ff_err_set(e, FF_EINTERNAL, "out of memory");
		} else if (S_ISDIR(st.st_mode) && depth < 32) {
			int sub = openat(dirfd, de->d_name, O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			char p2[4200];
			if (sub < 0) {
				rc = ff_err_set(e, FF_EFAIL, "open %s: %s", rel, strerror(errno));
				break;
			}
			snprintf(p2, sizeof(p2), "%s/", rel);
			rc = walk(sub, p2, files, others, depth + 1, e);
			close(sub);
		} else if (others && ff_strlist_push(others, rel) < 0) {
			rc = ff_err_set(e, FF_EINTERNAL, "out of memory");
		}
	}
	closedir(d);
	return rc;
}

/* With durable set, writeback of the file starts too (see ff_digest_write). */
static int hash_at(char hex[FF_SHA256_HEX], int dirfd, const char *rel, int durable, ff_err *e)
{
	int fd = openat(dirfd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return ff_err_set(e, FF_EFAIL, "%s: %s", rel, strerror(errno));
	int rc = ff_sha256_fd(hex, NULL, fd, e);
	if (rc == 0 && durable)
		sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
	close(fd);
	return rc;
}

static int fsync_at(int dirfd, const char *rel, int flags, ff_err *e)
{
	int fd = openat(dirfd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | flags);
	if (fd < 0 || fsync(fd) < 0) {
		int rc = ff_err_set(e, FF_EFAIL, "fsync %s: %s", rel, strerror(errno));
		if (fd >= 0)
			close(fd);
		return rc;
	}
	close(fd);
	return 0;
}

/* What the DIGEST names must be on disk before the DIGEST is: raw/ logs
 * and events are written without fsync. Writeback of every file starts
 * while it is hashed and each is fsynced only after the DIGEST is written,
 * so one journal commit covers them all (half the time of writing and
 * fsyncing each in turn, measured on ext4). */
/* The known digest of rel when the file still has the size it had. */
static const char *known_for(int dirfd, const char *rel, const ff_known_digest *known,
			     size_t nknown)
{
	struct stat st;
	for (size_t i = 0; i < nknown; i++) {
		if (strcmp(known[i].path, rel) != 0 || strlen(known[i].sha256) != 64 ||
		    strspn(known[i].sha256, "0123456789abcdef") != 64)
			continue;
		int fd = openat(dirfd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return NULL;
		int same = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
			   (uint64_t)st.st_size == known[i].bytes;
		if (same)
			sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
		close(fd);
		return same ? known[i].sha256 : NULL;
	}
	return NULL;
}

int ff_digest_write(int dirfd, const ff_known_digest *known, size_t nknown, ff_err *e)
{
	ff_strlist files = {0};
	ff_jsonw out; /* used as a plain growable buffer */
	int rc;

	ff_jsonw_init(&out);
	if ((rc = walk(dirfd, "", &files, NULL, 0, e)) < 0)
		goto done;
	ff_strlist_sort(&files);
	for (size_t i = 0; i < files.n; i++) {
		char hex[FF_SHA256_HEX], line[4200];
		const char *sum = known_for(dirfd, files.v[i], known, nknown);
		if (sum)
			snprintf(hex, sizeof(hex), "%s", sum);
		else if ((rc = hash_at(hex, dirfd, files.v[i], 1, e)) < 0)
			goto done;
		snprintf(line, sizeof(line), "%s  %s\n", hex, files.v[i]);
		out.after_key = 1; /* raw text, no separators */
		ff_jsonw_raw(&out, line);
	}
	/* Written in place, not renamed into place: a torn DIGEST never
	 * verifies (a cut line is malformed, a missing line leaves a file
	 * "present but not listed", an empty one is refused), and one journal
	 * commit less is a third of an empty run's time on ext4. */
	int f = openat(dirfd, "DIGEST", O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (f < 0 || write_all(f, out.buf ? out.buf : "", out.len) < 0) {
		rc = ff_err_set(e, FF_EFAIL, "write DIGEST: %s", strerror(errno));
		if (f >= 0)
			close(f);
		goto done;
	}
	sync_file_range(f, 0, 0, SYNC_FILE_RANGE_WRITE);
	for (size_t i = 0; i < files.n && rc == 0; i++) {
		rc = fsync_at(dirfd, files.v[i], 0, e);
		/* Then the folders holding it (raw/), once each: sorted paths
		 * put a folder's files next to each other. */
		char dir[4096];
		snprintf(dir, sizeof(dir), "%s", files.v[i]);
		for (char *slash; rc == 0 && (slash = strrchr(dir, '/'));) {
			*slash = '\0';
			const char *next = i + 1 < files.n ? files.v[i + 1] : "";
			size_t n = strlen(dir);
			if (!strncmp(next, dir, n) && next[n] == '/')
				break; /* the next file is in it too */
			rc = fsync_at(dirfd, dir, O_DIRECTORY, e);
		}
	}
	if (rc == 0 && (fsync(f) < 0 || fsync(dirfd) < 0))
		rc = ff_err_set(e, FF_EFAIL, "fsync DIGEST: %s", strerror(errno));
	close(f);
done:
	ff_jsonw_free(&out);
	ff_strlist_free(&files);
	return rc;
}

/* Read a whole small file (DIGEST, events.jsonl) into memory; these are
 * written by us and bounded by the run's own size. */
static int slurp(char **out, size_t *len, int dirfd, const char *name, size_t max, ff_err *e)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		return ff_err_set(e, FF_EFAIL, "%s: %s", name, strerror(errno));
	if (fstat(fd, &st) < 0 || (size_t)st.st_size > max) {
		close(fd);
		return ff_err_set(e, FF_EFAIL, "%s: unreadable or larger than %zu bytes", name, max);
	}
	return ff_read_fd(out, len, fd, (size_t)st.st_size, e);
}

static void problemf(ff_problem_fn fn, void *arg, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void problemf(ff_problem_fn fn, void *arg, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (fn)
		fn(arg, msg);
}

int ff_digest_verify(int dirfd, ff_problem_fn problem, void *arg, ff_err *e)
{
	char *text = NULL;
	size_t len;
	ff_strlist files = {0}, others = {0}, listed = {0};
	int rc, problems = 0;

	if ((rc = slurp(&text, &len, dirfd, "DIGEST", 64u << 20, e)) < 0)
		return rc;
	if ((rc = walk(dirfd, "", &files, &others, 0, e)) < 0)
		goto done;

	int lineno = 0;
	for (char *save = NULL, *line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		/* sha256sum's format: 64 hex, a space, ' ' or '*', the path. */
		size_t ll = strlen(line);
		if (ll < 67 || strspn(line, "0123456789abcdef") != 64 || line[64] != ' ' ||
		    (line[65] != ' ' && line[65] != '*')) {
			problemf(problem, arg, "DIGEST: line %d is malformed", lineno);
			problems++;
			continue;
		}
		const char *rel = line + 66;
		if (rel[0] == '/' || strstr(rel, "..")) {
			problemf(problem, arg, "DIGEST: line %d names a path outside the folder: %s", lineno, rel);
			problems++;
			continue;
		}
		char hex[FF_SHA256_HEX];
		ff_err he = {0};
		if (hash_at(hex, dirfd, rel, 0, &he) < 0) {
			problemf(problem, arg, "%s: listed in DIGEST but unreadable (%s)", rel, he.msg);
			problems++;
		} else if (strncmp(hex, line, 64) != 0) {
			problemf(problem, arg, "%s: sha256 mismatch (DIGEST %.12s…, file %.12s…)", rel, line, hex);
			problems++;
		}
		ff_strlist_push(&listed, rel);
	}
	ff_strlist_sort(&listed);
	for (size_t i = 0; i < files.n; i++) {
		if (!ff_strlist_has(&listed, files.v[i]) && strcmp(files.v[i], "DIGEST.tmp")) {
			problemf(problem, arg, "%s: present but not listed in DIGEST", files.v[i]);
			problems++;
		}
	}
	for (size_t i = 0; i < others.n; i++) {
		problemf(problem, arg, "%s: not a regular file (symlinks are not allowed)", others.v[i]);
		problems++;
	}
	if (lineno == 0) {
		problemf(problem, arg, "DIGEST: empty");
		problems++;
	}
	rc = problems;
done:
	free(text);
	ff_strlist_free(&files);
	ff_strlist_free(&others);
	ff_strlist_free(&listed);
	return rc;
}

int ff_events_verify(int dirfd, char last_hex[FF_SHA256_HEX],
		     unsigned long long *count, ff_problem_fn problem, void *arg,
		     ff_err *e)
{
	char *text = NULL;
	size_t len;
	char prev[FF_SHA256_HEX];
	unsigned long long n = 0;
	int rc, problems = 0;

	if ((rc = slurp(&text, &len, dirfd, "events.jsonl", 1u << 30, e)) < 0)
		return rc;
	memset(prev, '0', 64);
	prev[64] = '\0';
	char *p = text, *end = text + len;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
		unsigned long long seq;
		int off = 0;
		n++;
		if (!nl) {
			problemf(problem, arg, "events.jsonl: line %llu is not terminated (truncated?)", n);
			problems++;
		}
		if (sscanf(p, "{\"seq\":%llu,\"prev\":\"%n", &seq, &off) != 1 || off == 0 ||
		    ll < (size_t)off + 64 || p[off + 64] != '"') {
			problemf(problem, arg, "events.jsonl: line %llu is malformed", n);
			problems++;
		} else {
			if (seq != n) {
				problemf(problem, arg, "events.jsonl: line %llu has seq %llu (a line was removed or reordered)", n, seq);
				problems++;
			}
			if (strncmp(p + off, prev, 64) != 0) {
				problemf(problem, arg, "events.jsonl: line %llu breaks the hash chain (prev does not match line %llu)", n, n - 1);
				problems++;
			}
		}
		ff_sha256_hex(prev, p, ll);
		p += ll + 1;
	}
	if (last_hex)
		memcpy(last_hex, prev, FF_SHA256_HEX);
	if (count)
		*count = n;
	free(text);
	return problems;
}
