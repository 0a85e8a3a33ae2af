/*-------------------------------------------------------------------------
 *
 * objaccess.c
 *		Object access hook: the drops the other two hooks never see.
 *
 * Every object PostgreSQL deletes on a user's behalf passes OAT_DROP: each
 * object a CASCADE reaches, single columns, large objects removed by
 * lo_unlink() (also from a PL/pgSQL expression that no executor hook
 * sees), constraints dropped by ALTER DOMAIN, and so on.  In an agent
 * session such a drop is a finding unless
 *  - PostgreSQL flags it internal (temporary tables at session end,
 *    transient heaps of CLUSTER and REFRESH, index rebuilds, ...),
 *  - the utility statement causing it was already judged and allowed, or
 *  - it is one of the session's own temporary objects being dropped by a
 *    statement allowed for that reason.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/parallel.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/objectaccess.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_class.h"
#include "catalog/pg_default_acl.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "tcop/tcopprot.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "agent_guard.h"

static object_access_hook_type prev_object_access_hook = NULL;

static bool
ag_namespace_is_own_temp(Oid nsp)
{
	return OidIsValid(nsp) && isTempOrTempToastNamespace(nsp);
}

/* Does the dropped object belong to the session's temporary schema? */
static bool
ag_object_is_own_temp(Oid classId, Oid objectId)
{
	HeapTuple	tup;
	Oid			nsp = InvalidOid;

	switch (classId)
	{
		case RelationRelationId:
			return ag_relid_is_own_temp(objectId);
		case TypeRelationId:
			tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(objectId));
			if (HeapTupleIsValid(tup))
			{
				nsp = ((Form_pg_type) GETSTRUCT(tup))->typnamespace;
				ReleaseSysCache(tup);
			}
			return ag_namespace_is_own_temp(nsp);
		case ProcedureRelationId:
			return ag_namespace_is_own_temp(get_func_namespace(objectId));
		default:
			/* Constraints, triggers, defaults, ... of what is dropped. */
			return true;
	}
}

/* "DROP LARGE OBJECT", "DROP DOMAIN CONSTRAINT", ... */
static const char *
ag_drop_tag(const ObjectAddress *addr)
{
	char	   *kind = getObjectTypeDescription(addr, true);
	char	   *tag;
	char	   *c;

	if (kind == NULL)
		return "DROP";
	tag = psprintf("DROP %s", kind);
	for (c = tag; *c; c++)
		*c = pg_ascii_toupper((unsigned char) *c);
	return tag;
}

static void
ag_object_access(ObjectAccessType access, Oid classId, Oid objectId,
				 int subId, void *arg)
{
	ObjectAccessDrop *drop;
	ObjectAddress addr;
	AgFinding	f;

	if (prev_object_access_hook)
		prev_object_access_hook(access, classId, objectId, subId, arg);

	if (!ag_enabled || IsParallelWorker() || !IsTransactionState())
		return;

	if (access == OAT_FUNCTION_EXECUTE || access == OAT_POST_CREATE ||
		access == OAT_POST_ALTER)
	{
		if (ag_is_agent_session() &&
			ag_check_object_tamper(access, classId, objectId, &f))
			ag_judge(&f, debug_query_string, -1, 0);
		return;
	}
	if (access != OAT_DROP)
		return;

	drop = (ObjectAccessDrop *) arg;
	if (drop && (drop->dropflags & PERFORM_DELETION_INTERNAL))
		return;
	if (ag_drop_scope == AG_DROP_ANY || classId == DefaultAclRelationId)
		return;
	if (!ag_is_agent_session())
		return;
	if (ag_drop_scope == AG_DROP_TEMP && ag_object_is_own_temp(classId, objectId))
		return;

	addr.classId = classId;
	addr.objectId = objectId;
	addr.objectSubId = subId;

	ag_finding_init(&f, AG_OP_DROP);
	f.command_tag = ag_drop_tag(&addr);
	f.objects = list_make1(getObjectDescription(&addr, true));
	f.reason = "an agent may not drop database objects";
	ag_judge(&f, debug_query_string, -1, 0);
}

void
ag_install_object_access_hook(void)
{
	prev_object_access_hook = object_access_hook;
	object_access_hook = ag_object_access;
}
