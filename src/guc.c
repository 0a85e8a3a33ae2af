/*-------------------------------------------------------------------------
 *
 * guc.c
 *		agent_guard's configuration parameters.
 *
 * Every setting that decides what an agent may do is PGC_SUSET or
 * stricter: letting an ordinary user change it would defeat the point.
 * Where a superuser delegates one with GRANT SET ON PARAMETER, or an agent
 * role is itself a superuser, the check hook still refuses an agent
 * session's own attempt to change it (SET, set_config(), a function's SET
 * clause, ALTER ROLE/DATABASE ... SET validation, connection options).
 * Values an administrator put in postgresql.conf, ALTER SYSTEM or
 * ALTER ROLE/DATABASE ... SET apply normally.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/parallel.h"
#include "access/xact.h"
#include <limits.h>
#include "miscadmin.h"
#include "utils/guc.h"

#include "agent_guard.h"

bool		ag_enabled = true;
int			ag_mode = AG_MODE_ENFORCE;
char	   *ag_audit_database = NULL;
int			ag_audit_timeout = 5000;
int			ag_audit_queue_size = 8192;
int			ag_max_rows = 1000;
int			ag_max_rows_per_transaction = 10000;
int			ag_window_max_rows = 10000;
int			ag_window_seconds = 3600;
int			ag_audit_level = AG_AUDIT_DECISIONS;
int			ag_log_format = AG_LOG_FORMAT_NONE;

static const struct config_enum_entry ag_audit_level_options[] = {
	{"decisions", AG_AUDIT_DECISIONS, false},
	{"all", AG_AUDIT_ALL, false},
	{NULL, 0, false}
};

static const struct config_enum_entry ag_log_format_options[] = {
	{"none", AG_LOG_FORMAT_NONE, false},
	{"json", AG_LOG_FORMAT_JSON, false},
	{NULL, 0, false}
};

static const struct config_enum_entry ag_mode_options[] = {
	{"enforce", AG_MODE_ENFORCE, false},
	{"dry_run", AG_MODE_DRY_RUN, false},
	{NULL, 0, false}
};

/*
 * Refuse a change that an agent session makes itself.  Catalog access is
 * only possible inside a transaction; outside one (postmaster start,
 * configuration reload) the source is a file anyway.
 */
static bool
ag_setting_change_allowed(GucSource source)
{
	if (source < PGC_S_CLIENT || source == PGC_S_OVERRIDE)
		return true;
	if (!IsTransactionState() || IsParallelWorker())
		return true;
	if (!ag_is_agent_session())
		return true;

	GUC_check_errcode(ERRCODE_INSUFFICIENT_PRIVILEGE);
	GUC_check_errmsg("agent_guard: an agent session cannot change agent_guard settings");
	GUC_check_errhint("Only a human administrator using a non-agent role can change agent_guard settings.");
	return false;
}

static bool
ag_check_bool(bool *newval, void **extra, GucSource source)
{
	return ag_setting_change_allowed(source);
}

static bool
ag_check_int(int *newval, void **extra, GucSource source)
{
	return ag_setting_change_allowed(source);
}

void
ag_define_gucs(void)
{
	DefineCustomBoolVariable("agent_guard.enabled",
							 "Enables agent_guard's checks of agent sessions.",
							 NULL,
							 &ag_enabled,
							 true,
							 PGC_SUSET,
							 0,
							 ag_check_bool, NULL, NULL);

	DefineCustomEnumVariable("agent_guard.mode",
							 "Whether agent_guard enforces its verdicts or only records them.",
							 "enforce refuses guarded statements; dry_run records what would have been refused and lets it run.",
							 &ag_mode,
							 AG_MODE_ENFORCE,
							 ag_mode_options,
							 PGC_SUSET,
							 0,
							 ag_check_int, NULL, NULL);

	DefineCustomStringVariable("agent_guard.database",
							   "Database that holds agent_guard.audit_log.",
							   "The audit worker connects to it; CREATE EXTENSION agent_guard must have been run there.",
							   &ag_audit_database,
							   "postgres",
							   PGC_POSTMASTER,
							   0,
							   NULL, NULL, NULL);

	DefineCustomIntVariable("agent_guard.audit_timeout",
							"How long a backend waits for its audit record to be committed.",
							"If the record is not durable in time, the statement is refused and the record goes to the server log.",
							&ag_audit_timeout,
							5000, 10, 600000,
							PGC_SIGHUP,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("agent_guard.audit_queue_size",
							"Shared memory for routine audit records on their way to the audit worker.",
							"Used with agent_guard.audit_level = all; when it is full, agent sessions wait up to agent_guard.audit_timeout for space.",
							&ag_audit_queue_size,
							8192, 128, 1024 * 1024,
							PGC_POSTMASTER,
							GUC_UNIT_KB,
							NULL, NULL, NULL);

	DefineCustomIntVariable("agent_guard.max_rows",
							"The most rows one statement of an agent may delete or update.",
							"Counts every row the top-level statement changes, through CTEs, rules, triggers, cascades and functions; 0 means no limit.",
							&ag_max_rows,
							1000, 0, INT_MAX,
							PGC_SUSET,
							0,
							ag_check_int, NULL, NULL);

	DefineCustomIntVariable("agent_guard.max_rows_per_transaction",
							"The most rows one transaction of an agent may delete or update.",
							"0 means no limit.",
							&ag_max_rows_per_transaction,
							10000, 0, INT_MAX,
							PGC_SUSET,
							0,
							ag_check_int, NULL, NULL);

	DefineCustomIntVariable("agent_guard.window_max_rows",
							"The most rows an agent role may delete or update within agent_guard.window.",
							"Counts committed rows of all the role's sessions; 0 means no limit.",
							&ag_window_max_rows,
							10000, 0, INT_MAX,
							PGC_SUSET,
							0,
							ag_check_int, NULL, NULL);

	DefineCustomIntVariable("agent_guard.window",
							"Length of the rolling window of agent_guard.window_max_rows.",
							NULL,
							&ag_window_seconds,
							3600, 60, 30 * 24 * 3600,
							PGC_SIGHUP,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomEnumVariable("agent_guard.audit_level",
							 "Which statements of agent sessions are recorded in the audit log.",
							 "decisions records denials, dry-run verdicts and approvals; all also records every other statement, asynchronously.",
							 &ag_audit_level,
							 AG_AUDIT_DECISIONS,
							 ag_audit_level_options,
							 PGC_SUSET,
							 0,
							 ag_check_int, NULL, NULL);

	DefineCustomEnumVariable("agent_guard.log_format",
							 "Also write each audit row to the server log, in this format.",
							 "json writes one line per row, with its id and chain hash, for shipping to a SIEM.",
							 &ag_log_format,
							 AG_LOG_FORMAT_NONE,
							 ag_log_format_options,
							 PGC_SIGHUP,
							 0,
							 NULL, NULL, NULL);

	DefineCustomStringVariable("agent_guard.approval_token",
							   "Approval token for the next statement that agent_guard would refuse.",
							   "A human obtains it with agent_guard.approve(); it is good for one use of the approved statement.",
							   &ag_approval_token,
							   "",
							   PGC_USERSET,
							   GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE | GUC_DISALLOW_IN_FILE,
							   NULL, NULL, NULL);

	MarkGUCPrefixReserved("agent_guard");
}
