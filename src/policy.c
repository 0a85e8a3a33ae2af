/*-------------------------------------------------------------------------
 *
 * policy.c
 *		The administrator's policy: agent_guard.policy rows that change the
 *		default action or row budget for a role, a table, or both.
 *
 * A row matches a statement when its role is empty or the session's login
 * or current user is (a member of) that role, its table pattern is empty or
 * matches the table, and its operation covers the statement's.  The most
 * specific match wins: a rule naming both role and table, then one naming
 * the table, then one naming only the role; among equals, the lowest id.
 * No match leaves the defaults (agent_guard.max_rows and the rules of
 * ag_vocab.h).
 *
 * The rows are read from the current database's agent_guard.policy, where
 * the extension exists there, and cached per backend.  A trigger on the
 * table sends a relcache invalidation for it on every change, which drops
 * the cache in every backend of the database.  A row that cannot be
 * understood (a role that no longer exists, a bad pattern, a contradictory
 * action) is never skipped: any agent statement that consults the policy is
 * refused until an administrator fixes the row.
 *
 * The cache lives in its own memory context under CacheMemoryContext.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "agent_guard.h"

typedef struct AgPolicyRule
{
	int			id;
	Oid			roleid;			/* InvalidOid: any agent role */
	char	   *pattern;		/* NULL: any table */
	bool		qualified;		/* pattern names schema.table */
	int			ops;			/* AgPolicyOp bits */
	AgAction	action;
	int64		max_rows;		/* -1: none */
	int			approvers;		/* distinct approvers for approvals */
} AgPolicyRule;

static MemoryContext policy_cxt = NULL;
static bool policy_valid = false;
static Oid	policy_relid = InvalidOid;
static AgPolicyRule *rules = NULL;
static int	nrules = 0;
static char *policy_error = NULL;	/* first malformed row, if any */

static void
ag_policy_invalidate(Datum arg, Oid relid)
{
	if (!OidIsValid(relid) || relid == policy_relid)
		policy_valid = false;
}

/* LIKE-style match with % and _, backslash escapes; ASCII case-sensitive. */
static bool
ag_like(const char *s, const char *p)
{
	for (; *p; p++)
	{
		if (*p == '%')
		{
			while (p[1] == '%')
				p++;
			if (p[1] == '\0')
				return true;
			for (; *s; s++)
				if (ag_like(s, p + 1))
					return true;
			return ag_like(s, p + 1);
		}
		if (*s == '\0')
			return false;
		if (*p == '\\')
			p++;
		else if (*p == '_')
		{
			s++;
			continue;
		}
		if (*p != *s)
			return false;
		s++;
	}
	return *s == '\0';
}

static int
ag_parse_ops(const char *op)
{
	if (strcmp(op, "any") == 0)
		return AG_POLICY_DELETE | AG_POLICY_UPDATE | AG_POLICY_MERGE;
	if (strcmp(op, "delete") == 0)
		return AG_POLICY_DELETE;
	if (strcmp(op, "update") == 0)
		return AG_POLICY_UPDATE;
	if (strcmp(op, "merge") == 0)
		return AG_POLICY_MERGE;
	if (strcmp(op, "truncate") == 0)
		return AG_POLICY_TRUNCATE;
	if (strcmp(op, "drop") == 0)
		return AG_POLICY_DROP;
	return 0;
}

static char *
ag_text_attr(HeapTuple tup, TupleDesc desc, int attno)
{
	bool		isnull;
	Datum		d = heap_getattr(tup, attno, desc, &isnull);

	return isnull ? NULL : TextDatumGetCString(d);
}

/* Understand one policy row; on failure set policy_error and return false. */
static bool
ag_policy_parse_row(HeapTuple tup, TupleDesc desc, AgPolicyRule *r)
{
	bool		isnull;
	Datum		d;
	char	   *role;
	char	   *table;
	char	   *op;
	char	   *action;

	if (desc->natts < 7)
	{
		policy_error = pstrdup("agent_guard.policy does not have the columns this version expects");
		return false;
	}
	d = heap_getattr(tup, 1, desc, &isnull);
	r->id = isnull ? 0 : DatumGetInt32(d);
	role = ag_text_attr(tup, desc, 2);
	table = ag_text_attr(tup, desc, 3);
	op = ag_text_attr(tup, desc, 4);
	action = ag_text_attr(tup, desc, 5);
	d = heap_getattr(tup, 6, desc, &isnull);
	r->max_rows = isnull ? -1 : DatumGetInt64(d);
	d = heap_getattr(tup, 7, desc, &isnull);
	r->approvers = isnull ? 1 : DatumGetInt32(d);
	if (r->approvers < 1)
	{
		policy_error = psprintf("policy row %d asks for %d approvers", r->id, r->approvers);
		return false;
	}

	r->roleid = InvalidOid;
	if (role != NULL)
	{
		r->roleid = get_role_oid(role, true);
		if (!OidIsValid(r->roleid))
		{
			policy_error = psprintf("policy row %d names role \"%s\", which does not exist", r->id, role);
			return false;
		}
	}

	r->pattern = NULL;
	r->qualified = false;
	if (table != NULL)
	{
		size_t		len = strlen(table);

		if (len == 0 || (table[len - 1] == '\\' && (len < 2 || table[len - 2] != '\\')))
		{
			policy_error = psprintf("policy row %d has an invalid table pattern \"%s\"", r->id, table);
			return false;
		}
		r->pattern = table;
		r->qualified = strchr(table, '.') != NULL;
	}

	r->ops = op ? ag_parse_ops(op) : 0;
	if (r->ops == 0)
	{
		policy_error = psprintf("policy row %d has an unknown operation \"%s\"", r->id, op ? op : "");
		return false;
	}

	if (action != NULL && strcmp(action, "allow") == 0)
		r->action = AG_ACTION_ALLOW;
	else if (action != NULL && strcmp(action, "budget") == 0)
		r->action = AG_ACTION_BUDGET;
	else if (action != NULL && strcmp(action, "deny") == 0)
		r->action = AG_ACTION_DENY;
	else
	{
		policy_error = psprintf("policy row %d has an unknown action \"%s\"", r->id, action ? action : "");
		return false;
	}

	if ((r->action == AG_ACTION_BUDGET) != (r->max_rows >= 0))
	{
		policy_error = psprintf("policy row %d: action \"budget\" needs max_rows, and only it may have one", r->id);
		return false;
	}
	return true;
}

/* (Re)read agent_guard.policy of this database, if it exists. */
static void
ag_policy_load(void)
{
	Oid			nsp;
	Relation	rel;
	SysScanDesc scan;
	HeapTuple	tup;
	MemoryContext oldcxt;
	int			nalloc = 8;

	if (policy_cxt == NULL)
		policy_cxt = AllocSetContextCreate(CacheMemoryContext,
										   "agent_guard policy",
										   ALLOCSET_SMALL_SIZES);

	/* Invalidations arriving while we read clear the flag again. */
	while (!policy_valid)
	{
		policy_valid = true;
		MemoryContextReset(policy_cxt);
		rules = NULL;
		nrules = 0;
		policy_error = NULL;

		nsp = get_namespace_oid("agent_guard", true);
		policy_relid = OidIsValid(nsp) ? get_relname_relid("policy", nsp) : InvalidOid;
		if (!OidIsValid(policy_relid))
			continue;

		oldcxt = MemoryContextSwitchTo(policy_cxt);
		rules = palloc(nalloc * sizeof(AgPolicyRule));
		rel = table_open(policy_relid, AccessShareLock);
		scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
		while (HeapTupleIsValid(tup = systable_getnext(scan)))
		{
			if (nrules == nalloc)
			{
				nalloc *= 2;
				rules = repalloc(rules, nalloc * sizeof(AgPolicyRule));
			}
			if (ag_policy_parse_row(tup, RelationGetDescr(rel), &rules[nrules]))
				nrules++;
			else
				break;
		}
		systable_endscan(scan);
		table_close(rel, AccessShareLock);
		MemoryContextSwitchTo(oldcxt);
	}
}

/* Does the session's login or current user fall under the rule's role? */
static bool
ag_rule_role_matches(const AgPolicyRule *r)
{
	if (!OidIsValid(r->roleid))
		return true;
	return is_member_of_role_nosuper(GetSessionUserId(), r->roleid) ||
		is_member_of_role_nosuper(GetUserId(), r->roleid);
}

/*
 * Find the rule that governs this table and operation for the session.
 * m->id is 0 when none does.  Raises an error if the policy is malformed.
 */
void
ag_policy_lookup(Oid relid, AgPolicyOp op, AgPolicyMatch *m)
{
	char	   *relname = NULL;
	char	   *qualname = NULL;
	int			best = 0;
	int			i;

	m->id = 0;
	m->action = AG_ACTION_BUDGET;
	m->max_rows = -1;
	m->table_rule = false;
	m->approvers = 1;

	ag_policy_load();
	if (policy_error != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("agent_guard: refused, the agent_guard policy is invalid"),
				 errdetail("%s.", policy_error),
				 errhint("A human administrator must correct agent_guard.policy; until then agent statements the policy governs are refused.")));
	if (nrules == 0)
		return;

	for (i = 0; i < nrules; i++)
	{
		AgPolicyRule *r = &rules[i];
		int			rank;

		if ((r->ops & op) == 0 || !ag_rule_role_matches(r))
			continue;
		if (r->pattern != NULL)
		{
			if (!OidIsValid(relid))
				continue;
			if (relname == NULL)
			{
				relname = get_rel_name(relid);
				qualname = psprintf("%s.%s",
									get_namespace_name(get_rel_namespace(relid)),
									relname ? relname : "");
			}
			if (relname == NULL ||
				!ag_like(r->qualified ? qualname : relname, r->pattern))
				continue;
			rank = OidIsValid(r->roleid) ? 3 : 2;
		}
		else
			rank = 1;
		if (rank > best || (rank == best && r->id < m->id))
		{
			best = rank;
			m->id = r->id;
			m->action = r->action;
			m->max_rows = r->max_rows;
			m->table_rule = r->pattern != NULL;
			m->approvers = r->approvers;
		}
	}
}

/* Let the policy for (table, operation) change a finding's action. */
void
ag_policy_apply(AgFinding *f, Oid relid, AgPolicyOp op)
{
	AgPolicyMatch m;

	ag_policy_lookup(relid, op, &m);
	if (m.id == 0)
		return;
	switch (m.action)
	{
		case AG_ACTION_DENY:
			f->action = AG_ACTION_DENY;
			f->rule = AG_RULE_POLICY;
			f->reason = psprintf("agent_guard.policy row %d forbids this operation to this role on this table", m.id);
			break;
		case AG_ACTION_ALLOW:
			f->action = AG_ACTION_ALLOW;
			break;
		case AG_ACTION_BUDGET:
			/* The row budget applies; what the rules deny stays denied. */
			if (f->action == AG_ACTION_ALLOW)
				f->action = AG_ACTION_BUDGET;
			break;
	}
}

/* How many distinct approvers an approval of this operation needs. */
int
ag_policy_approvers(Oid relid, int op)
{
	AgPolicyMatch m;

	if (op == 0)
		return 1;
	ag_policy_lookup(relid, (AgPolicyOp) op, &m);
	return m.id ? m.approvers : 1;
}

void
ag_policy_init(void)
{
	CacheRegisterRelcacheCallback(ag_policy_invalidate, (Datum) 0);
}

PG_FUNCTION_INFO_V1(agent_guard_policy_changed);

/*
 * Statement trigger on agent_guard.policy: every backend of the database
 * re-reads the policy after this transaction commits.
 */
Datum
agent_guard_policy_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("policy_changed() must be called as a trigger")));
	CacheInvalidateRelcacheByRelid(RelationGetRelid(trigdata->tg_relation));
	return PointerGetDatum(NULL);
}
