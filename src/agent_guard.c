/*-------------------------------------------------------------------------
 *
 * agent_guard.c
 *		Entry point of the agent_guard extension: module magic, _PG_init
 *		and hook installation.  Nothing else lives here.
 *
 * agent_guard must be loaded through shared_preload_libraries: it needs
 * shared memory and a background worker, and a guard that a session could
 * simply not load would be no guard at all.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"

#include "agent_guard.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	if (IsBinaryUpgrade)
		return;

	if (!process_shared_preload_libraries_in_progress)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("agent_guard must be loaded via \"shared_preload_libraries\""),
				 errhint("Add agent_guard to the \"shared_preload_libraries\" setting in postgresql.conf and restart the server.")));

	ag_define_gucs();
	ag_identity_init();
	ag_policy_init();
	ag_budget_init();
	ag_audit_init();
	ag_audit_register_worker();

	/* Hooks, all in one place. */
	ag_audit_shmem_request();
	ag_budget_shmem_request();
	ag_install_utility_hook();
	ag_install_executor_hooks();
	ag_install_object_access_hook();
	ag_install_emit_log_hook();
	ag_install_tamper_hooks();
}
