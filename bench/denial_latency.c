/*
 * denial_latency.c — client-side latency of statements, one connection,
 * round robin over the statements given, with libpq's PQexec (simple
 * protocol, autocommit).  Built and run by bench/run.sh.
 *
 *   denial_latency CONNINFO N WARMUP STMT...
 *
 * Runs WARMUP rounds untimed, then N rounds; in each round every STMT once,
 * in order (so machine noise hits all of them alike).  Prints one line per
 * timed execution: "<stmt index> <microseconds> <sqlstate or 00000>".
 * The clock is CLOCK_MONOTONIC around PQexec, so a latency includes the
 * round trip and, for an agent_guard denial, the durable audit write the
 * server waits for before it sends the error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <libpq-fe.h>

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int
main(int argc, char **argv)
{
	PGconn	   *conn;
	int			n, warmup, nstmt, r, s;

	if (argc < 5)
	{
		fprintf(stderr, "usage: %s CONNINFO N WARMUP STMT...\n", argv[0]);
		return 2;
	}
	n = atoi(argv[2]);
	warmup = atoi(argv[3]);
	nstmt = argc - 4;

	conn = PQconnectdb(argv[1]);
	if (PQstatus(conn) != CONNECTION_OK)
	{
		fprintf(stderr, "connection failed: %s", PQerrorMessage(conn));
		return 1;
	}

	for (r = 0; r < warmup + n; r++)
	{
		for (s = 0; s < nstmt; s++)
		{
			double		t0 = now_us();
			PGresult   *res = PQexec(conn, argv[4 + s]);
			double		t1 = now_us();
			const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

			if (PQresultStatus(res) == PGRES_FATAL_ERROR && state == NULL)
			{
				fprintf(stderr, "statement %d failed: %s", s, PQerrorMessage(conn));
				return 1;
			}
			if (r >= warmup)
				printf("%d %.1f %s\n", s, t1 - t0, state ? state : "00000");
			PQclear(res);
		}
	}
	PQfinish(conn);
	return 0;
}
