/* main.c - the command line (SPEC §2): parse, load the configuration, run,
 * and map the outcome to an exit status. */
#include <getopt.h>
#include <signal.h>
#include <lua.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/libpq.h"
#include "core/yaml.h"

#include "core/config.h"
#include "run/run.h"

static void usage(FILE *out)
{
	fputs("usage: ffrun [OPTIONS] RUNBOOK [NAME=VALUE ...]\n"
	      "       ffrun [OPTIONS] --plan FILE\n"
	      "\n"
	      "Run a disaster-recovery runbook (backup, restore, drill, verify, prune,\n"
	      "report, or a path to a .lua file) in a sandbox, and leave evidence.\n"
	      "\n"
	      "  -c, --config FILE  configuration (default: $FFRUN_CONFIG, else ./ffrun.yaml,\n"
	      "                     else built-in defaults)\n"
	      "  -n, --dry-run      rehearse: read-only probes run, every write is planned\n"
	      "                     and printed, none is done\n"
	      "      --describe     print the runbook's name, version, summary and params\n"
	      "      --check        lint: load each given runbook (several paths allowed)\n"
	      "                     and what it requires in the sandbox, check its header\n"
	      "                     and param declarations; needs no values, runs nothing\n"
	      "      --plan-out FILE  with --dry-run: write the rehearsal as a sealed plan\n"
	      "                     (what it was made from, the writes it planned)\n"
	      "      --plan-ttl S   how long that plan holds (default 86400 s)\n"
	      "      --plan FILE    run exactly that plan: refuse before any write if\n"
	      "                     anything it was made from changed, stop before a\n"
	      "                     write it does not list (no RUNBOOK, no params)\n"
	      "      --plan-sha256 HEX  with --plan: only the plan a reviewer approved\n"
	      "                     (the sha256 --plan-out printed)\n"
	      "      --json         print the final result as one JSON object on stdout\n"
	      "  -q, --quiet        only errors on stderr\n"
	      "  -v, --verbose      announce every step\n"
	      "      --version      versions of ffrun, Lua, libpq, OpenSSL and libyaml\n"
	      "  -h, --help         this help\n"
	      "\n"
	      "Examples:\n"
	      "  ffrun --describe backup\n"
	      "  ffrun -c /etc/ffrun.yaml backup\n"
	      "  ffrun --dry-run restore backup=latest confirm=foxproflow\n"
	      "  ffrun verify path=ops/_backups/20251227-184012\n"
	      "\n"
	      "Exit status: 0 PASS, 1 FAIL, 2 usage or configuration error, 3 sandbox\n"
	      "violation or limit, 4 busy (lock held), 70 internal error.\n", out);
}

static void version(void)
{
	ff_err e = {0};
	printf("ffrun %s\n%s\n", FF_VERSION, LUA_RELEASE);
	if (ff_libpq_load(&e) == 0) {
		int pq = ff_pq()->PQlibVersion();
		printf("libpq %d.%d\n", pq / 10000, pq % 100);
	} else {
		printf("libpq: %s\n", e.msg);
	}
	printf("%s\nlibyaml %s\n", OpenSSL_version(OPENSSL_VERSION), ff_yaml_libyaml_version());
}

/* The plan options' rules, and a runbook unless a plan names it. */
static int plan_usage(const ff_ctx *ctx, int nargs)
{
	const char *why = NULL;
	if (ctx->pin.out && !ctx->dry_run)
		why = "--plan-out writes the plan of a rehearsal: give --dry-run too";
	else if (ctx->pin.in && (ctx->dry_run || ctx->pin.out || ctx->check || ctx->describe))
		why = "--plan runs a plan: not with --dry-run, --plan-out, --check or --describe";
	else if (ctx->pin.want_sha256 && !ctx->pin.in)
		why = "--plan-sha256 goes with --plan";
	else if (ctx->pin.in && nargs > 0)
		why = "--plan takes the runbook and its params from the plan: give neither";
	else if (!ctx->pin.in && nargs == 0)
		why = "no runbook given";
	if (!why)
		return 0;
	if (!ctx->pin.in && nargs == 0)
		usage(stderr);
	fprintf(stderr, "ffrun: %s\n", why);
	return -1;
}

/* --check RUNBOOK...: each runbook linted on a context of its own, all
 * of them even after a broken one; the first failure's exit status. */
static int check_all(ff_ctx *proto, char **runbooks, int n)
{
	int status = 0;
	for (int i = 0; i < n; i++) {
		if (strchr(runbooks[i], '=') && !strstr(runbooks[i], ".lua")) {
			fprintf(stderr, "ffrun: --check lints runbooks and takes no NAME=VALUE (%s): "
				"give values to a run or a --dry-run\n", runbooks[i]);
			if (!status)
				status = 2;
			continue;
		}
		ff_ctx ctx;
		memset(&ctx, 0, sizeof(ctx));
		ctx.cfg = proto->cfg;
		ctx.check = 1;
		ctx.quiet = proto->quiet;
		ctx.verbose = proto->verbose;
		ctx.runbook_arg = runbooks[i];
		int rc = ff_run(&ctx);
		ff_ctx_free(&ctx);
		if (rc && !status)
			status = rc;
	}
	return status;
}

int main(int argc, char **argv)
{
	enum { OPT_DESCRIBE = 256, OPT_CHECK, OPT_JSON, OPT_VERSION, OPT_PLAN_OUT, OPT_PLAN, OPT_PLAN_TTL, OPT_PLAN_SHA };
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"dry-run", no_argument, NULL, 'n'},
		{"describe", no_argument, NULL, OPT_DESCRIBE},
		{"check", no_argument, NULL, OPT_CHECK},
		{"json", no_argument, NULL, OPT_JSON},
		{"plan-out", required_argument, NULL, OPT_PLAN_OUT},
		{"plan", required_argument, NULL, OPT_PLAN},
		{"plan-ttl", required_argument, NULL, OPT_PLAN_TTL},
		{"plan-sha256", required_argument, NULL, OPT_PLAN_SHA},
		{"quiet", no_argument, NULL, 'q'},
		{"verbose", no_argument, NULL, 'v'},
		{"version", no_argument, NULL, OPT_VERSION},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	ff_ctx ctx;
	ff_config cfg;
	ff_err e = {0};
	const char *config = NULL;
	int c;

	memset(&ctx, 0, sizeof(ctx));
	/* A child's closed pipe is an error to report, not a reason to die. */
	signal(SIGPIPE, SIG_IGN);
	/* Options may follow the runbook; NAME=VALUE never starts with "-". */
	while ((c = getopt_long(argc, argv, "c:nqvh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'n': ctx.dry_run = 1; break;
		case 'q': ctx.quiet = 1; break;
		case 'v': ctx.verbose = 1; break;
		case OPT_DESCRIBE: ctx.describe = 1; break;
		case OPT_CHECK: ctx.check = 1; break;
		case OPT_JSON: ctx.json = 1; break;
		case OPT_PLAN_OUT: ctx.pin.out = optarg; break;
		case OPT_PLAN: ctx.pin.in = optarg; break;
		case OPT_PLAN_TTL:
			ctx.pin.ttl_s = atof(optarg);
			if (ctx.pin.ttl_s > 0 && ctx.pin.ttl_s <= 366 * 86400.0)
				break;
			fprintf(stderr, "ffrun: --plan-ttl takes seconds, above 0 and at most a year\n");
			return 2;
		case OPT_PLAN_SHA: ctx.pin.want_sha256 = optarg; break;
		case OPT_VERSION: version(); return 0;
		case 'h': usage(stdout); return 0;
		default:
			fprintf(stderr, "ffrun: see ffrun --help\n");
			return 2;
		}
	}
	if (plan_usage(&ctx, argc - optind) < 0)
		return 2;
	if (!ctx.pin.ttl_s)
		ctx.pin.ttl_s = 24 * 3600;
	if (!ctx.pin.in) {
		ctx.runbook_arg = argv[optind];
		ctx.assign = argv + optind + 1;
		ctx.nassign = argc - optind - 1;
	}

	if (!config && getenv("FFRUN_CONFIG") && *getenv("FFRUN_CONFIG"))
		config = getenv("FFRUN_CONFIG");
	if (!config && access("ffrun.yaml", F_OK) == 0)
		config = "ffrun.yaml";
	if (ff_config_load(&cfg, config, &e) < 0) {
		fprintf(stderr, "ffrun: %s\n", e.msg);
		return ff_err_exit_status(e.code);
	}
	ctx.cfg = &cfg;
	int status = ctx.check ? check_all(&ctx, argv + optind, argc - optind) : ff_run(&ctx);
	ff_ctx_free(&ctx);
	ff_config_free(&cfg);
	return status;
}
