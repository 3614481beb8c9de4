/* config.h - ffrun.yaml (SPEC §3), read with libyaml through yaml.h and
 * checked against a fixed schema: unknown keys, wrong types and dangling
 * names are errors "file:line:col: what". */
#ifndef FF_CONFIG_H
#define FF_CONFIG_H

#include <stddef.h>

#include "err.h"
#include "yaml.h"

typedef struct ff_target {
	char *name;
	char *conninfo;  /* NULL when absent (libpq's environment then) */
	int ephemeral;   /* 1: a throwaway cluster made by ffrun */
	char *engine;    /* "pg_dump" (the default, logical) or "pgbackrest" */
	char *pgbr_stanza; /* engine pgbackrest: pgbackrest.stanza */
	char *pgbr_config; /* ...and pgbackrest.config, absolute: the operator's
	                      pgbackrest.conf, where its secrets stay */
} ff_target;

typedef struct ff_smoke {
	char *name;
	char *sql;
} ff_smoke;

typedef struct ff_argv_list { /* a list of argv arrays */
	char ***argv; /* each NULL-terminated */
	size_t n;
} ff_argv_list;

typedef struct ff_config {
	char *file;        /* absolute path of the file read, NULL for defaults */
	char *dir;         /* its folder (or the cwd): relative paths resolve here */
	ff_target *targets;
	size_t ntargets;
	char *backups_dir;  /* absolute */
	char *evidence_dir; /* absolute */
	char *pg_bindir;    /* "auto" or an absolute folder */
	char *pg_os_user;
	char *backup_globals; /* roles | with-passwords | none */
	char *backup_verify;  /* none | rows | content */
	int backup_jobs;      /* 0 = auto */
	int keep_last;
	int keep_days;
	int evidence_days;    /* prune removes evidence folders older than this */
	double rpo_hours;
	double rto_minutes;
	int drill_amcheck;    /* drill.amcheck: pg_amcheck the restored copy */
	char **snapshots;     /* absolute paths */
	size_t nsnapshots;
	ff_smoke *smoke;
	size_t nsmoke;
	ff_argv_list services_up;
	ff_argv_list services_check;
	ff_argv_list app_state; /* backup.app_state: n is 0 or 1 */
	ff_argv_list drill_up, drill_check, drill_down; /* services.drill */
	char **exec_allow;    /* absolute program paths */
	size_t nexec_allow;
	char **restore_allow_errors; /* patterns of pg_restore errors allowed */
	size_t nrestore_allow_errors;
	char *monitoring_textfile; /* Prometheus textfile-collector file, or NULL */
	size_t memory_mb;
	double seconds;       /* 0 = no wall-clock cap */
	long long instructions; /* count-hook cap; 0 = none */
	ff_yaml_node *tree;   /* the parsed document, NULL for defaults or an
	                         empty file; owned, freed by ff_config_free */
} ff_config;

/* Load path, or, when path is NULL, the built-in defaults (SPEC §3) with
 * paths resolved against cwd. Errors are FF_EUSAGE with
 * "file:line:col: what" in e->msg ("file: cannot read: ..." when the file
 * cannot be read); on error *cfg is left zeroed, nothing to free.
 * A key whose value is null (`paths:` alone, `~`) keeps its default.
 * Targets prod (conninfo NULL: libpq's environment) and drill (ephemeral)
 * are added when the file does not define them. */
int ff_config_load(ff_config *cfg, const char *path, ff_err *e);
void ff_config_free(ff_config *cfg);

const ff_target *ff_config_target(const ff_config *cfg, const char *name);

#endif
