/* libpq.h - libpq, mapped the first time a database is needed.
 *
 * libpq pulls some twenty libraries in with it (GSSAPI, LDAP, TLS…):
 * mapping them costs more than everything else ffrun does to start, so a
 * runbook that never touches a database (verify, report, --describe) must
 * not pay for it. The host calls libpq through this table instead of
 * linking it; the types and constants still come from libpq-fe.h.
 *
 * ff_libpq_load() dlopens libpq once per process (thread-safe) and is
 * called where a database first comes into play: ff_pg_connect, conninfo
 * parsing, --version. ff_pq() returns the loaded table; every PGconn and
 * PGresult comes from a connection made after a successful load, so code
 * holding one may call ff_pq() without checking. */
#ifndef FF_LIBPQ_H
#define FF_LIBPQ_H

#include <libpq-fe.h>

#include "err.h"

/* Every libpq function the host uses, under libpq's own name. */
#define FF_LIBPQ_FUNCTIONS(X)                                                     \
	X(PGconn *, PQconnectdbParams,                                             \
	  (const char *const *keywords, const char *const *values, int expand))    \
	X(ConnStatusType, PQstatus, (const PGconn *conn))                          \
	X(void, PQfinish, (PGconn *conn))                                          \
	X(char *, PQerrorMessage, (const PGconn *conn))                            \
	X(char *, PQdb, (const PGconn *conn))                                      \
	X(char *, PQhost, (const PGconn *conn))                                    \
	X(char *, PQport, (const PGconn *conn))                                    \
	X(int, PQserverVersion, (const PGconn *conn))                              \
	X(const char *, PQparameterStatus, (const PGconn *conn, const char *param)) \
	X(PGresult *, PQexec, (PGconn *conn, const char *query))                   \
	X(PGresult *, PQexecParams,                                                \
	  (PGconn *conn, const char *command, int nParams, const Oid *paramTypes,  \
	   const char *const *paramValues, const int *paramLengths,                \
	   const int *paramFormats, int resultFormat))                             \
	X(int, PQsendQueryParams,                                                  \
	  (PGconn *conn, const char *command, int nParams, const Oid *paramTypes,  \
	   const char *const *paramValues, const int *paramLengths,                \
	   const int *paramFormats, int resultFormat))                             \
	X(int, PQsendQuery, (PGconn *conn, const char *query))                     \
	X(int, PQconsumeInput, (PGconn *conn))                                     \
	X(int, PQsocket, (const PGconn *conn))                                     \
	X(PGcancel *, PQgetCancel, (PGconn *conn))                                 \
	X(int, PQcancel, (PGcancel *cancel, char *errbuf, int errbufsize))         \
	X(void, PQfreeCancel, (PGcancel *cancel))                                  \
	X(int, PQisBusy, (PGconn *conn))                                           \
	X(PGresult *, PQgetResult, (PGconn *conn))                                 \
	X(int, PQgetCopyData, (PGconn *conn, char **buffer, int async))            \
	X(ExecStatusType, PQresultStatus, (const PGresult *res))                   \
	X(char *, PQresultErrorMessage, (const PGresult *res))                     \
	X(char *, PQresultErrorField, (const PGresult *res, int fieldcode))        \
	X(int, PQntuples, (const PGresult *res))                                   \
	X(int, PQnfields, (const PGresult *res))                                   \
	X(char *, PQfname, (const PGresult *res, int field_num))                   \
	X(char *, PQgetvalue, (const PGresult *res, int tup_num, int field_num))   \
	X(int, PQgetlength, (const PGresult *res, int tup_num, int field_num))     \
	X(int, PQgetisnull, (const PGresult *res, int tup_num, int field_num))     \
	X(void, PQclear, (PGresult *res))                                          \
	X(char *, PQescapeLiteral, (PGconn *conn, const char *str, size_t len))    \
	X(char *, PQescapeIdentifier, (PGconn *conn, const char *str, size_t len)) \
	X(void, PQfreemem, (void *ptr))                                            \
	X(PQconninfoOption *, PQconninfoParse, (const char *conninfo, char **errmsg)) \
	X(void, PQconninfoFree, (PQconninfoOption *connOptions))                   \
	X(int, PQputCopyData, (PGconn *conn, const char *buffer, int nbytes))      \
	X(int, PQputCopyEnd, (PGconn *conn, const char *errormsg))                 \
	X(int, PQsetnonblocking, (PGconn *conn, int arg))                          \
	X(int, PQflush, (PGconn *conn))                                            \
	X(char *, PQcmdTuples, (PGresult *res))                                    \
	X(int, PQlibVersion, (void))

typedef struct ff_libpq {
#define FF_LIBPQ_FIELD(ret, name, params) ret (*name) params;
	FF_LIBPQ_FUNCTIONS(FF_LIBPQ_FIELD)
#undef FF_LIBPQ_FIELD
} ff_libpq;

/* Map libpq (once) and resolve every function above; an error names the
 * library or the missing symbol. */
int ff_libpq_load(ff_err *e);

/* The table; only valid after ff_libpq_load succeeded. */
const ff_libpq *ff_pq(void);

#endif
