/*-------------------------------------------------------------------------
 *
 * identity.c
 *		Who is an agent: the agent_guard security label provider and the
 *		per-backend cache of the answer.
 *
 * A role is tagged with SECURITY LABEL FOR agent_guard ON ROLE r IS 'agent'.
 * Role labels live in the shared catalog pg_shseclabel, so a tag holds in
 * every database of the cluster, whether or not the extension was created
 * there.  A role is an agent when it is tagged or is a member, at any depth
 * and whatever its INHERIT setting, of a tagged role.  Superuser status
 * never matters: an untagged superuser is not an agent, a tagged one is.
 *
 * A session is an agent session when its authenticated login, its session
 * user or its current user is an agent.  SET ROLE, RESET ROLE, SET SESSION
 * AUTHORIZATION and SECURITY DEFINER functions can change the latter two
 * but never the login, so the tag follows the login.
 *
 * The list of tagged roles and the answer for the current (session user,
 * current user) pair are cached in backend-local memory.  The cache is
 * dropped on any pg_authid or pg_auth_members invalidation; setting or
 * removing a label sends a pg_authid invalidation for the labelled role, so
 * other backends of every database notice at their next transaction.  A
 * non-agent session thus pays one comparison per check.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_shseclabel.h"
#include "access/relation.h"
#include "catalog/objectaddress.h"
#include "commands/seclabel.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/fmgroids.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "agent_guard.h"

static bool cache_valid = false;
static Oid *tagged_roles = NULL;
static int	ntagged_roles = 0;

/* The last few answers of ag_role_is_agent(), dropped with the cache. */
#define AG_ROLE_ANSWERS 8
static Oid	answer_role[AG_ROLE_ANSWERS];
static bool answer_agent[AG_ROLE_ANSWERS];
static int	nanswers = 0;
static bool login_is_agent = false;
static Oid	cached_session_user = InvalidOid;
static Oid	cached_current_user = InvalidOid;
static bool cached_answer = false;

static void
ag_identity_invalidate(Datum arg, int cacheid, uint32 hashvalue)
{
	cache_valid = false;
}

/*
 * Read the roles that carry our label from pg_shseclabel.  The catalog is
 * small and has no index on provider; a heap scan is the right tool.
 */
static void
ag_load_tagged_roles(void)
{
	Relation	rel;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	int			nalloc = 8;
	Oid		   *roles;
	int			n = 0;

	roles = MemoryContextAlloc(CacheMemoryContext, nalloc * sizeof(Oid));

	rel = table_open(SharedSecLabelRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_shseclabel_classoid,
				BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(AuthIdRelationId));
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 1, &key);

	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_shseclabel form = (Form_pg_shseclabel) GETSTRUCT(tup);
		bool		isnull;
		Datum		d;
		char	   *provider;
		char	   *label;

		d = heap_getattr(tup, Anum_pg_shseclabel_provider,
						 RelationGetDescr(rel), &isnull);
		if (isnull)
			continue;
		provider = TextDatumGetCString(d);
		if (strcmp(provider, AG_PROVIDER) != 0)
			continue;
		d = heap_getattr(tup, Anum_pg_shseclabel_label,
						 RelationGetDescr(rel), &isnull);
		if (isnull)
			continue;
		label = TextDatumGetCString(d);
		if (strcmp(label, AG_AGENT_LABEL) != 0)
			continue;

		if (n == nalloc)
		{
			nalloc *= 2;
			roles = repalloc(roles, nalloc * sizeof(Oid));
		}
		roles[n++] = form->objoid;
	}

	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	if (tagged_roles)
		pfree(tagged_roles);
	tagged_roles = roles;
	ntagged_roles = n;
}

/*
 * Is the role tagged, or a member of a tagged role?  Deliberately not
 * has_privs_of_role(): that one says yes to every superuser.
 */
static bool
ag_role_is_agent_cached(Oid roleid)
{
	int			i;

	if (!OidIsValid(roleid))
		return false;
	for (i = 0; i < ntagged_roles; i++)
	{
		if (roleid == tagged_roles[i] ||
			is_member_of_role_nosuper(roleid, tagged_roles[i]))
			return true;
	}
	return false;
}

static void
ag_refresh_cache(void)
{
	/*
	 * An invalidation may arrive while we read the catalog; it clears
	 * cache_valid again and we read once more.
	 */
	while (!cache_valid)
	{
		cache_valid = true;
		nanswers = 0;
		ag_load_tagged_roles();
		login_is_agent = ag_role_is_agent_cached(GetAuthenticatedUserId());
		cached_session_user = InvalidOid;
		cached_current_user = InvalidOid;
	}
}

/*
 * Is this role an agent?  Asked for function owners at every function
 * lookup and for plan owners, in every session, so the last few answers
 * are kept.
 */
bool
ag_role_is_agent(Oid roleid)
{
	int			i;
	bool		agent;

	ag_refresh_cache();
	if (ntagged_roles == 0)
		return false;
	for (i = 0; i < nanswers; i++)
		if (answer_role[i] == roleid)
			return answer_agent[i];
	agent = ag_role_is_agent_cached(roleid);
	i = nanswers < AG_ROLE_ANSWERS ? nanswers++ : (int) (roleid % AG_ROLE_ANSWERS);
	answer_role[i] = roleid;
	answer_agent[i] = agent;
	return agent;
}

/*
 * Is this an agent session?  Must be called inside a transaction.
 */
bool
ag_is_agent_session(void)
{
	Oid			session_user;
	Oid			current_user;

	/* Running code an agent owns counts as the agent's doing. */
	if (ag_agent_code_depth > 0)
		return true;

	if (cache_valid)
	{
		if (login_is_agent)
			return true;
		if (GetUserId() == cached_current_user &&
			GetSessionUserId() == cached_session_user)
			return cached_answer;
	}

	ag_refresh_cache();
	if (login_is_agent)
		return true;

	session_user = GetSessionUserId();
	current_user = GetUserId();
	cached_answer = ag_role_is_agent_cached(session_user) ||
		ag_role_is_agent_cached(current_user);
	cached_session_user = session_user;
	cached_current_user = current_user;
	return cached_answer;
}

/*
 * SECURITY LABEL FOR agent_guard, done here rather than by registering a
 * label provider: a registered provider would also receive every SECURITY
 * LABEL statement that names no provider, changing what such statements do
 * on servers that load agent_guard.  The checks are PostgreSQL's own
 * (CREATEROLE, or superuser for a superuser role), plus ours: only the
 * label "agent", only on roles, never from an agent session.
 */
void
ag_exec_seclabel(SecLabelStmt *stmt)
{
	ObjectAddress address;
	Relation	relation = NULL;
	Relation	authid;
	HeapTuple	tup;

	if (stmt->objtype != OBJECT_ROLE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("agent_guard labels can only be set on roles")));

	if (stmt->label != NULL && strcmp(stmt->label, AG_AGENT_LABEL) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid agent_guard label \"%s\"", stmt->label),
				 errdetail("The only valid label is \"%s\".", AG_AGENT_LABEL),
				 errhint("Use IS NULL to remove the label.")));

	if (ag_is_agent_session())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("agent_guard: an agent session cannot set or remove agent_guard labels"),
				 errhint("A human administrator with a non-agent role that has CREATEROLE must change agent tags.")));

	address = get_object_address(stmt->objtype, stmt->object, &relation,
								 ShareUpdateExclusiveLock, false);
	check_object_ownership(GetUserId(), stmt->objtype, address,
						   stmt->object, relation);
	SetSecurityLabel(&address, AG_PROVIDER, stmt->label);

	/*
	 * Tell every backend of every database that agent tags changed: an
	 * invalidation of the role's pg_authid entry, sent at commit.
	 */
	authid = table_open(AuthIdRelationId, AccessShareLock);
	tup = SearchSysCache1(AUTHOID, ObjectIdGetDatum(address.objectId));
	if (HeapTupleIsValid(tup))
	{
		CacheInvalidateHeapTuple(authid, tup, NULL);
		ReleaseSysCache(tup);
	}
	table_close(authid, AccessShareLock);
	if (relation != NULL)
		relation_close(relation, NoLock);
}

void
ag_identity_init(void)
{
	CacheRegisterSyscacheCallback(AUTHOID, ag_identity_invalidate, (Datum) 0);
	CacheRegisterSyscacheCallback(AUTHMEMROLEMEM, ag_identity_invalidate, (Datum) 0);
}
