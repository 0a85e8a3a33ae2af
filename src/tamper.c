/*-------------------------------------------------------------------------
 *
 * tamper.c
 *		Self-protection: what an agent could use to switch off, route
 *		around or outlive its guard, beyond the statements classify.c
 *		names.
 *
 *	- Code an agent wrote stays an agent's.  A function (including a trigger
 *	  function) owned by an agent role is run through fmgr's hook, which
 *	  counts how deep we are inside agent-owned code; while we are, the
 *	  session is treated as an agent session, so a trigger an agent planted
 *	  is guarded when a human's INSERT fires it.  Rule actions and views owned
 *	  by an agent carry its role as checkAsUser in the plan; such a plan is
 *	  judged as an agent's too.
 *	- Functions that reach outside the guard are refused to agent sessions:
 *	  signalling other backends (pg_terminate_backend, pg_cancel_backend),
 *	  server-side large-object file transfer, adminpack's file functions,
 *	  dblink connections, replication slot and origin removal.
 *	- The extension's own schema: an agent may not create objects in it, or
 *	  alter or write to what is there.
 *	- session_replication_role other than origin disables triggers and
 *	  foreign keys: an agent session running with it is refused.
 *
 * State: ag_agent_code_depth is backend-local, kept by the fmgr hook and
 * reset at transaction end.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/pg_class.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_language.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "catalog/pg_proc.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "parser/parsetree.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "agent_guard.h"

int			ag_agent_code_depth = 0;
Oid			ag_agent_code_owner = InvalidOid;

static needs_fmgr_hook_type prev_needs_fmgr_hook = NULL;
static fmgr_hook_type prev_fmgr_hook = NULL;

/* Functions an agent session may not call, by name, in pg_catalog. */
static const char *const ag_catalog_denied[] = {
	AG_CATALOG_DENIED_FUNCTIONS, NULL
};

/* Does an agent role own this function? */
static bool
ag_function_owner(Oid fn_oid, Oid *owner)
{
	HeapTuple	tup;

	*owner = InvalidOid;
	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(fn_oid));
	if (!HeapTupleIsValid(tup))
		return false;
	*owner = ((Form_pg_proc) GETSTRUCT(tup))->proowner;
	ReleaseSysCache(tup);
	return true;
}

static bool
ag_needs_fmgr_hook(Oid fn_oid)
{
	Oid			owner;

	if (prev_needs_fmgr_hook && prev_needs_fmgr_hook(fn_oid))
		return true;
	if (!ag_enabled || !IsTransactionState())
		return false;
	return ag_function_owner(fn_oid, &owner) && ag_role_is_agent(owner);
}

/*
 * Around each call of a function needs_fmgr_hook flagged: count the depth
 * of agent-owned code.  Whether a function is an agent's is worked out
 * again at its end rather than kept in *private, which another module's
 * hook may be using; the depth is also reset at transaction end.
 */
static void
ag_fmgr_hook(FmgrHookEventType event, FmgrInfo *flinfo, Datum *private)
{
	Oid			owner;

	if (prev_fmgr_hook)
		prev_fmgr_hook(event, flinfo, private);

	if (!ag_function_owner(flinfo->fn_oid, &owner) || !ag_role_is_agent(owner))
		return;
	if (event == FHET_START)
	{
		if (ag_agent_code_depth++ == 0)
			ag_agent_code_owner = owner;
	}
	else if (--ag_agent_code_depth <= 0)
	{
		ag_agent_code_depth = 0;
		ag_agent_code_owner = InvalidOid;
	}
}

static void
ag_tamper_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT ||
		event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT)
	{
		ag_agent_code_depth = 0;
		ag_agent_code_owner = InvalidOid;
	}
}

/*
 * Does this plan act for an agent although the session is not one: a rule
 * action or view owned by an agent role?  Returns the role, or InvalidOid.
 */
Oid
ag_plan_agent_owner(PlannedStmt *pstmt)
{
	ListCell   *lc;
	Oid			last = InvalidOid;

#ifdef AG_HAVE_PERMINFOS
	foreach(lc, pstmt->permInfos)
	{
		Oid			as_user = ((RTEPermissionInfo *) lfirst(lc))->checkAsUser;
#else
	foreach(lc, pstmt->rtable)
	{
		Oid			as_user = ((RangeTblEntry *) lfirst(lc))->checkAsUser;
#endif

		if (!OidIsValid(as_user) || as_user == last)
			continue;
		last = as_user;
		if (ag_role_is_agent(last))
			return last;
	}
	return InvalidOid;
}

/* Oid of the extension's schema, or InvalidOid. */
static Oid
ag_extension_namespace(void)
{
	return get_namespace_oid("agent_guard", true);
}

/*
 * A plan of an agent that writes to the extension's tables (policy,
 * approvals, audit) is guard tampering, whatever was granted.
 */
void
ag_check_plan_tamper(PlannedStmt *pstmt, AgFinding *f)
{
	ListCell   *lc;
	Oid			nsp;

	if (SessionReplicationRole != SESSION_REPLICATION_ROLE_ORIGIN)
	{
		ag_finding_init(f, AG_OP_GUARD_TAMPER);
		f->command_tag = "SET";
		f->objects = list_make1(pstrdup("session_replication_role"));
		f->reason = "an agent session may not run with session_replication_role other than origin, which disables triggers and foreign keys";
		return;
	}
	if (pstmt->resultRelations == NIL)
		return;
	nsp = ag_extension_namespace();
	if (!OidIsValid(nsp))
		return;
	foreach(lc, pstmt->resultRelations)
	{
		RangeTblEntry *rte = rt_fetch(lfirst_int(lc), pstmt->rtable);

		if (OidIsValid(rte->relid) && get_rel_namespace(rte->relid) == nsp)
		{
			ag_finding_init(f, AG_OP_GUARD_TAMPER);
			f->command_tag = pstmt->commandType == CMD_INSERT ? "INSERT" :
				pstmt->commandType == CMD_UPDATE ? "UPDATE" :
				pstmt->commandType == CMD_DELETE ? "DELETE" : "MERGE";
			f->objects = list_make1(ag_relation_description(rte->relid));
			f->reason = "an agent may not write to agent_guard's own tables";
			return;
		}
	}
}

/*
 * The namespace of an object that may have been created by the current
 * command, of any catalog that has one: read with SnapshotSelf, as the
 * syscaches do not see the new row yet at OAT_POST_CREATE.
 */
static Oid
ag_namespace_self(Oid classId, Oid objectId)
{
	AttrNumber	nspattr;
	Relation	rel;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	Oid			nsp = InvalidOid;

	/* Defaults, inheritance, large objects, ...: no namespace of their own. */
	if (!is_objectclass_supported(classId))
		return InvalidOid;
	nspattr = get_object_attnum_namespace(classId);
	if (nspattr == InvalidAttrNumber)
		return InvalidOid;
	rel = table_open(classId, AccessShareLock);
	ScanKeyInit(&key, get_object_attnum_oid(classId), BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(objectId));
	scan = systable_beginscan(rel, get_object_oid_index(classId), true,
							  SnapshotSelf, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
	{
		bool		isnull;
		Datum		d = heap_getattr(tup, nspattr, RelationGetDescr(rel), &isnull);

		if (!isnull)
			nsp = DatumGetObjectId(d);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return nsp;
}

/*
 * Object access on behalf of an agent session: calls of functions that
 * reach outside the guard, and objects created or altered in the
 * extension's schema.  Fills f and returns true for a finding.
 */
bool
ag_check_object_tamper(ObjectAccessType access, Oid classId, Oid objectId,
					   AgFinding *f)
{
	if (access == OAT_FUNCTION_EXECUTE)
	{
		char	   *name = get_func_name(objectId);
		Oid			nsp = get_func_namespace(objectId);
		int			i;
		bool		denied = false;

		if (name == NULL)
			return false;
		if (nsp == PG_CATALOG_NAMESPACE)
		{
			for (i = 0; ag_catalog_denied[i] != NULL; i++)
				if (strcmp(name, ag_catalog_denied[i]) == 0)
					denied = true;
		}
		else if (strncmp(name, "dblink", 6) == 0)
		{
			HeapTuple	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(objectId));

			if (HeapTupleIsValid(tup))
			{
				denied = ((Form_pg_proc) GETSTRUCT(tup))->prolang == ClanguageId;
				ReleaseSysCache(tup);
			}
		}
		if (!denied)
			return false;
		ag_finding_init(f, AG_OP_GUARD_TAMPER);
		f->command_tag = "EXECUTE";
		f->objects = list_make1(psprintf("function %s()", name));
		f->reason = "an agent may not signal other sessions, move files on the server, open connections with dblink, or drop replication state";
		return true;
	}

	if (access == OAT_POST_CREATE || access == OAT_POST_ALTER)
	{
		Oid			nsp = ag_extension_namespace();
		Oid			objnsp = InvalidOid;

		if (!OidIsValid(nsp))
			return false;
		if (classId == NamespaceRelationId)
			objnsp = objectId;
		else
			objnsp = ag_namespace_self(classId, objectId);
		if (objnsp != nsp)
			return false;
		ag_finding_init(f, AG_OP_GUARD_TAMPER);
		f->command_tag = access == OAT_POST_CREATE ? "CREATE" : "ALTER";
		f->objects = list_make1(pstrdup("schema agent_guard"));
		f->reason = "an agent may not create or alter objects in agent_guard's schema";
		return true;
	}
	return false;
}

void
ag_install_tamper_hooks(void)
{
	prev_needs_fmgr_hook = needs_fmgr_hook;
	needs_fmgr_hook = ag_needs_fmgr_hook;
	prev_fmgr_hook = fmgr_hook;
	fmgr_hook = ag_fmgr_hook;
	RegisterXactCallback(ag_tamper_xact_callback, NULL);
}
