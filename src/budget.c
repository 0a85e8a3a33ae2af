/*-------------------------------------------------------------------------
 *
 * budget.c
 *		Row budgets: count the rows an agent's statements really change and
 *		stop the statement the moment a budget is passed.
 *
 * Counting.  For the duration of an agent statement, the result relations
 * of every plan it runs (the top-level one and all nested ones: writable
 * CTEs, rule actions, functions, triggers, foreign-key cascades) have their
 * relcache entry's table AM pointer swapped for a copy of heap's whose
 * tuple_delete and tuple_update count each row they change.  So every row
 * the statement deletes or updates, by whatever route, is counted as it
 * happens, and the budget check runs before the next row is touched: the
 * cost of refusing an over-budget DELETE is proportional to the budget, not
 * to the table.  Only heap relations are watched.  The swap is undone when
 * the plan ends, and by the (sub)transaction abort callbacks; a relcache
 * rebuild of a watched entry, which resets the pointer, is caught by a
 * relcache callback that puts it back.
 *
 * Budgets.  Rows count against
 *  - the statement: agent_guard.max_rows, or the policy's max_rows for the
 *    table (per table) or the role (all tables);
 *  - the transaction: agent_guard.max_rows_per_transaction;
 *  - the role's rolling window: agent_guard.window_max_rows rows within
 *    agent_guard.window, kept in shared memory (so reconnecting does not
 *    reset it) and saved across clean restarts.  Only committed rows are
 *    added to the window; a rolled-back statement costs nothing.
 * Rows of tables the policy allows outright ("allow") count against none.
 * In dry_run mode nothing is stopped; the first budget passed is recorded,
 * with the rows the statement finally reached, when the statement ends.
 *
 * A "statement" is a top-level statement of the session (nesting level 0):
 * a CALL whose procedure commits between chunks is one statement.
 *
 * Memory: statement state lives in ag_stmt_cxt, reset at the start of each
 * top-level statement; the window lives in shared memory under its own
 * LWLock (AgWindowShared->lock, exclusive for every access).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>
#include <unistd.h>

#include "access/parallel.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "optimizer/plancat.h"
#include "pgtime.h"
#include "storage/bufmgr.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "tcop/pquery.h"
#include "tcop/tcopprot.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "agent_guard.h"

/* ---------------------------------------------------------------------
 * Shared memory: the rolling window per role
 * ---------------------------------------------------------------------
 */
#define AG_WINDOW_ROLES		1024
#define AG_WINDOW_BUCKETS	60
#define AG_WINDOW_FILE		"pg_stat/agent_guard_window.stat"
#define AG_WINDOW_MAGIC		0x41475731	/* "AGW1" */

typedef struct AgWindowEntry
{
	Oid			roleid;			/* InvalidOid: unused */
	int64		bucket_no[AG_WINDOW_BUCKETS];	/* which period each holds */
	int64		rows[AG_WINDOW_BUCKETS];
} AgWindowEntry;

typedef struct AgWindowShared
{
	LWLock	   *lock;
	AgWindowEntry entries[AG_WINDOW_ROLES];
} AgWindowShared;

static AgWindowShared *ag_window = NULL;
#ifdef AG_HAVE_SHMEM_REQUEST_HOOK
static shmem_request_hook_type prev_shmem_request_hook = NULL;
#endif
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* ---------------------------------------------------------------------
 * Backend-local state
 * ---------------------------------------------------------------------
 */
typedef struct AgTableRows
{
	Oid			relid;
	int64		rows;
	AgAction	action;			/* policy for this table */
	int64		limit;			/* per-table limit, -1 if none */
	int			policy_id;
	AgPolicyOp	op;				/* the operation the policy was read for */
} AgTableRows;

typedef struct AgWatched
{
	Relation	rel;
	int			refcount;
	int			nest_level;		/* transaction nesting level at first watch */
} AgWatched;

static MemoryContext ag_stmt_cxt = NULL;
static bool stmt_active = false;	/* counting for this top-level statement */
static int64 stmt_rows = 0;		/* counted rows, all tables */
static int64 stmt_committed = 0;	/* of which committed by inner COMMITs */
static int64 stmt_role_limit = -1;	/* role policy's per-statement limit */
static AgTableRows *stmt_tables = NULL;
static int	stmt_ntables = 0;
static int	stmt_tables_alloc = 0;
static AgFinding *stmt_dry_finding = NULL;	/* first budget passed in dry run */
static bool stmt_approved = false;	/* a human approved this statement */
static int64 stmt_ceiling = -1;	/* ... up to this many rows, -1: any */
static TimestampTz stmt_start = 0;	/* identifies the client statement */
static const void *stmt_first = NULL;

static int64 txn_rows = 0;		/* counted rows in this transaction */
static int64 txn_window_base = -1;	/* role's window use when it began */
static int64 *subxact_rows = NULL;	/* txn_rows at each subxact start */
static int	subxact_depth = 0;
static int	subxact_alloc = 0;

typedef struct AgPlanWatch
{
	QueryDesc  *queryDesc;
	List	   *relids;			/* what ag_budget_watch watched for it */
	int			nest_level;
} AgPlanWatch;

static List *plan_watches = NIL;	/* of AgPlanWatch, in TopMemoryContext */

static AgWatched *watched = NULL;
static int	nwatched = 0;
static int	watched_alloc = 0;

static const TableAmRoutine *heap_am = NULL;
static TableAmRoutine counting_am;

static void ag_count_row(Relation rel, AgPolicyOp op);

/* ---------------------------------------------------------------------
 * The counting table AM
 * ---------------------------------------------------------------------
 */
static TM_Result
ag_tuple_delete(Relation rel, ItemPointer tid, CommandId cid,
				Snapshot snapshot, Snapshot crosscheck, bool wait,
				TM_FailureData *tmfd, bool changingPart)
{
	TM_Result	result;

	result = heap_am->tuple_delete(rel, tid, cid, snapshot, crosscheck,
								   wait, tmfd, changingPart);
	if (result == TM_Ok && (stmt_active || ag_agent_code_depth > 0))
		ag_count_row(rel, changingPart ? AG_POLICY_UPDATE : AG_POLICY_DELETE);
	return result;
}

static TM_Result
ag_tuple_update(Relation rel, ItemPointer otid, TupleTableSlot *slot,
				CommandId cid, Snapshot snapshot, Snapshot crosscheck,
				bool wait, TM_FailureData *tmfd, LockTupleMode *lockmode,
				ag_update_indexes_t *update_indexes)
{
	TM_Result	result;

	result = heap_am->tuple_update(rel, otid, slot, cid, snapshot, crosscheck,
								   wait, tmfd, lockmode, update_indexes);
	if (result == TM_Ok && (stmt_active || ag_agent_code_depth > 0))
		ag_count_row(rel, AG_POLICY_UPDATE);
	return result;
}

/* Watch a relation: route its deletes and updates through counting_am. */
static void
ag_watch_relation(Oid relid)
{
	Relation	rel;
	int			i;

	for (i = 0; i < nwatched; i++)
	{
		if (RelationGetRelid(watched[i].rel) == relid)
		{
			watched[i].refcount++;
			return;
		}
	}

	/* The executor holds a lock on every result relation already. */
	rel = table_open(relid, NoLock);
	if (rel->rd_tableam != heap_am && rel->rd_tableam != &counting_am)
	{
		table_close(rel, NoLock);
		return;
	}
	if (nwatched == watched_alloc)
	{
		watched_alloc = Max(8, watched_alloc * 2);
		watched = watched ?
			repalloc(watched, watched_alloc * sizeof(AgWatched)) :
			MemoryContextAlloc(TopMemoryContext, watched_alloc * sizeof(AgWatched));
	}
	watched[nwatched].rel = rel;
	watched[nwatched].refcount = 1;
	watched[nwatched].nest_level = GetCurrentTransactionNestLevel();
	nwatched++;
	rel->rd_tableam = &counting_am;
}

static void
ag_unwatch_relation(Oid relid)
{
	int			i;

	for (i = 0; i < nwatched; i++)
	{
		if (RelationGetRelid(watched[i].rel) != relid)
			continue;
		if (--watched[i].refcount > 0)
			return;
		if (watched[i].rel->rd_tableam == &counting_am)
			watched[i].rel->rd_tableam = heap_am;
		table_close(watched[i].rel, NoLock);
		watched[i] = watched[--nwatched];
		return;
	}
}

/*
 * Forget watched relations opened at or below a (sub)transaction level that
 * is aborting.  Their references are released by the resource owner.
 */
static void
ag_unwatch_aborted(int nest_level)
{
	int			i = 0;

	while (i < nwatched)
	{
		if (watched[i].nest_level >= nest_level)
		{
			if (watched[i].rel->rd_tableam == &counting_am)
				watched[i].rel->rd_tableam = heap_am;
			watched[i] = watched[--nwatched];
		}
		else
			i++;
	}
}

/* A rebuilt relcache entry has heap's AM again; put ours back. */
static void
ag_budget_relcache_callback(Datum arg, Oid relid)
{
	int			i;

	for (i = 0; i < nwatched; i++)
	{
		Relation	rel = watched[i].rel;

		if ((!OidIsValid(relid) || RelationGetRelid(rel) == relid) &&
			rel->rd_tableam == heap_am)
			rel->rd_tableam = &counting_am;
	}
}

/*
 * After ExecutorStart of an agent plan: watch its result relations, and for
 * partitioned ones that rows may be routed into, their partitions too.
 * What was watched is remembered with the plan, so that ExecutorEnd undoes
 * exactly that and nothing a plan around it watched.
 */
void
ag_budget_watch(QueryDesc *queryDesc)
{
	EState	   *estate = queryDesc->estate;
	ListCell   *lc;
	List	   *relids = NIL;
	AgPlanWatch *pw;
	MemoryContext oldcxt;

	if ((!stmt_active && ag_agent_code_depth == 0) || estate == NULL)
		return;

	foreach(lc, estate->es_opened_result_relations)
	{
		Relation	rel = ((ResultRelInfo *) lfirst(lc))->ri_RelationDesc;

		if (rel->rd_rel->relkind == RELKIND_PARTITIONED_TABLE)
		{
			ListCell   *lp;

			foreach(lp, find_all_inheritors(RelationGetRelid(rel),
											RowExclusiveLock, NULL))
				if (get_rel_relkind(lfirst_oid(lp)) == RELKIND_RELATION)
					relids = lappend_oid(relids, lfirst_oid(lp));
		}
		else if (rel->rd_rel->relkind == RELKIND_RELATION)
			relids = lappend_oid(relids, RelationGetRelid(rel));
	}
	if (relids == NIL)
		return;

	foreach(lc, relids)
		ag_watch_relation(lfirst_oid(lc));

	oldcxt = MemoryContextSwitchTo(TopMemoryContext);
	pw = palloc(sizeof(AgPlanWatch));
	pw->queryDesc = queryDesc;
	pw->relids = list_copy(relids);
	pw->nest_level = GetCurrentTransactionNestLevel();
	plan_watches = lappend(plan_watches, pw);
	MemoryContextSwitchTo(oldcxt);
}

/* Before ExecutorEnd: stop watching what ag_budget_watch watched. */
void
ag_budget_unwatch(QueryDesc *queryDesc)
{
	ListCell   *lc;

	foreach(lc, plan_watches)
	{
		AgPlanWatch *pw = lfirst(lc);
		ListCell   *lr;

		if (pw->queryDesc != queryDesc)
			continue;
		foreach(lr, pw->relids)
			ag_unwatch_relation(lfirst_oid(lr));
		plan_watches = foreach_delete_current(plan_watches, lc);
		list_free(pw->relids);
		pfree(pw);
		return;
	}
}

/* Forget the plans of an aborting (sub)transaction. */
static void
ag_forget_plan_watches(int nest_level)
{
	ListCell   *lc;

	foreach(lc, plan_watches)
	{
		AgPlanWatch *pw = lfirst(lc);

		if (pw->nest_level < nest_level)
			continue;
		plan_watches = foreach_delete_current(plan_watches, lc);
		list_free(pw->relids);
		pfree(pw);
	}
}

/* ---------------------------------------------------------------------
 * The window
 * ---------------------------------------------------------------------
 */
static int64
ag_window_bucket_now(void)
{
	int64		width = Max(1, ag_window_seconds / AG_WINDOW_BUCKETS);

	return (int64) time(NULL) / width;
}

/* Rows the role changed within the window.  Caller holds the lock. */
static int64
ag_window_sum(AgWindowEntry *e, int64 now)
{
	int64		sum = 0;
	int			i;

	for (i = 0; i < AG_WINDOW_BUCKETS; i++)
		if (e->bucket_no[i] > now - AG_WINDOW_BUCKETS)
			sum += e->rows[i];
	return sum;
}

/* The role's entry; create == false returns NULL if it has none. */
static AgWindowEntry *
ag_window_entry(Oid roleid, int64 now, bool create)
{
	AgWindowEntry *free_entry = NULL;
	int			i;

	for (i = 0; i < AG_WINDOW_ROLES; i++)
	{
		AgWindowEntry *e = &ag_window->entries[i];

		if (e->roleid == roleid)
			return e;
		if (free_entry == NULL &&
			(e->roleid == InvalidOid || ag_window_sum(e, now) == 0))
			free_entry = e;
	}
	if (!create || free_entry == NULL)
		return NULL;
	memset(free_entry, 0, sizeof(AgWindowEntry));
	free_entry->roleid = roleid;
	return free_entry;
}

static int64
ag_window_used(Oid roleid)
{
	AgWindowEntry *e;
	int64		now = ag_window_bucket_now();
	int64		used = 0;

	if (ag_window == NULL)
		return 0;
	LWLockAcquire(ag_window->lock, LW_EXCLUSIVE);
	e = ag_window_entry(roleid, now, false);
	if (e)
		used = ag_window_sum(e, now);
	LWLockRelease(ag_window->lock);
	return used;
}

/* Add committed rows to the role's window. */
static void
ag_window_add(Oid roleid, int64 rows)
{
	AgWindowEntry *e;
	int64		now = ag_window_bucket_now();
	int			b = (int) (now % AG_WINDOW_BUCKETS);

	if (ag_window == NULL || rows <= 0)
		return;
	LWLockAcquire(ag_window->lock, LW_EXCLUSIVE);
	e = ag_window_entry(roleid, now, true);
	if (e != NULL)
	{
		if (e->bucket_no[b] != now)
		{
			e->bucket_no[b] = now;
			e->rows[b] = 0;
		}
		e->rows[b] += rows;
	}
	LWLockRelease(ag_window->lock);
	if (e == NULL)
		ereport(WARNING,
				(errmsg("agent_guard: no room to record the row window of role %u", roleid)));
}

/* Save the windows at a clean shutdown; read them back at startup. */
static void
ag_window_shmem_shutdown(int code, Datum arg)
{
	FILE	   *file;
	uint32		magic = AG_WINDOW_MAGIC;

	if (code != 0 || ag_window == NULL)
		return;
	file = AllocateFile(AG_WINDOW_FILE ".tmp", PG_BINARY_W);
	if (file == NULL)
		return;
	if (fwrite(&magic, sizeof(magic), 1, file) != 1 ||
		fwrite(ag_window->entries, sizeof(ag_window->entries), 1, file) != 1)
	{
		FreeFile(file);
		unlink(AG_WINDOW_FILE ".tmp");
		return;
	}
	if (FreeFile(file) == 0)
		(void) durable_rename(AG_WINDOW_FILE ".tmp", AG_WINDOW_FILE, LOG);
}

static void
ag_window_load(void)
{
	FILE	   *file = AllocateFile(AG_WINDOW_FILE, PG_BINARY_R);
	uint32		magic;

	if (file == NULL)
		return;
	if (fread(&magic, sizeof(magic), 1, file) != 1 || magic != AG_WINDOW_MAGIC ||
		fread(ag_window->entries, sizeof(ag_window->entries), 1, file) != 1)
		memset(ag_window->entries, 0, sizeof(ag_window->entries));
	FreeFile(file);
	unlink(AG_WINDOW_FILE);
}

static void
ag_budget_shmem_request_hook(void)
{
#ifdef AG_HAVE_SHMEM_REQUEST_HOOK
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
#endif
	RequestAddinShmemSpace(MAXALIGN(sizeof(AgWindowShared)));
	RequestNamedLWLockTranche("agent_guard_window", 1);
}

static void
ag_budget_shmem_startup_hook(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	ag_window = ShmemInitStruct("agent_guard window", sizeof(AgWindowShared), &found);
	if (!found)
	{
		memset(ag_window, 0, sizeof(AgWindowShared));
		ag_window->lock = &(GetNamedLWLockTranche("agent_guard_window"))->lock;
		ag_window_load();
	}
	LWLockRelease(AddinShmemInitLock);

	if (!IsUnderPostmaster)
		on_shmem_exit(ag_window_shmem_shutdown, (Datum) 0);
}

void
ag_budget_shmem_request(void)
{
#ifdef AG_HAVE_SHMEM_REQUEST_HOOK
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = ag_budget_shmem_request_hook;
#else
	ag_budget_shmem_request_hook();
#endif
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = ag_budget_shmem_startup_hook;
}

/* ---------------------------------------------------------------------
 * Counting and budgets
 * ---------------------------------------------------------------------
 */

/* The statement's row count for a table, with its policy, resolved once. */
static AgTableRows *
ag_table_rows(Relation rel, AgPolicyOp op)
{
	Oid			relid = RelationGetRelid(rel);
	Oid			parent = relid;
	AgPolicyMatch m;
	AgTableRows *t;
	int			i;

	for (i = 0; i < stmt_ntables; i++)
		if (stmt_tables[i].relid == relid && stmt_tables[i].op == op)
			return &stmt_tables[i];

	/* A partition falls under the policy of its partitioned table. */
	if (rel->rd_rel->relispartition)
	{
		List	   *ancestors = get_partition_ancestors(relid);

		if (ancestors != NIL)
			parent = llast_oid(ancestors);
	}
	ag_policy_lookup(parent, op, &m);

	if (stmt_ntables == stmt_tables_alloc)
	{
		stmt_tables_alloc = Max(8, stmt_tables_alloc * 2);
		stmt_tables = stmt_tables ?
			repalloc(stmt_tables, stmt_tables_alloc * sizeof(AgTableRows)) :
			MemoryContextAlloc(ag_stmt_cxt, stmt_tables_alloc * sizeof(AgTableRows));
	}
	t = &stmt_tables[stmt_ntables++];
	t->relid = relid;
	t->rows = 0;
	t->op = op;
	t->policy_id = m.id;
	t->action = m.id ? m.action : AG_ACTION_BUDGET;
	t->limit = (m.id && m.table_rule) ? m.max_rows : -1;
	if (m.id && !m.table_rule && m.action == AG_ACTION_BUDGET)
		stmt_role_limit = m.max_rows;
	return t;
}

/*
 * A budget was passed: refuse the statement, or in dry run remember the
 * first such finding for the record at the statement's end.
 */
static void
ag_budget_exceeded(Relation rel, AgPolicyOp op, const char *rule,
				   int64 rows, int64 budget, const char *what)
{
	MemoryContext oldcxt;
	AgFinding  *f;

	if (ag_mode == AG_MODE_DRY_RUN && stmt_dry_finding != NULL)
		return;

	oldcxt = MemoryContextSwitchTo(ag_stmt_cxt);
	f = palloc(sizeof(AgFinding));
	ag_finding_init(f, op == AG_POLICY_DELETE ? AG_OP_DELETE : AG_OP_UPDATE);
	f->action = AG_ACTION_DENY;
	f->rule = rule;
	f->command_tag = op == AG_POLICY_DELETE ? "DELETE" : "UPDATE";
	f->objects = list_make1(ag_relation_description(RelationGetRelid(rel)));
	f->row_count = rows;
	f->relid = RelationGetRelid(rel);
	f->pop = op;
	if (strcmp(rule, AG_RULE_POLICY) == 0)
		f->reason = pstrdup(what);
	else
		f->reason = psprintf("%s (budget: %lld rows)", what, (long long) budget);
	f->detail = psprintf("The statement was stopped at row %lld, on %s%s.",
						 (long long) rows,
						 (char *) linitial(f->objects),
						 stmt_committed > 0 ?
						 psprintf("; %lld rows of it were committed earlier by the procedure",
								  (long long) stmt_committed) : "");
	MemoryContextSwitchTo(oldcxt);

	if (ag_mode == AG_MODE_DRY_RUN)
	{
		stmt_dry_finding = f;
		return;
	}
	ag_judge(f, debug_query_string, -1, 0);
}

static void
ag_count_row(Relation rel, AgPolicyOp op)
{
	AgTableRows *t;
	int64		limit;

	/*
	 * An approved statement answers only to its approval's ceiling; its rows
	 * count against no other budget.
	 */
	if (stmt_approved)
	{
		stmt_rows++;
		if (stmt_ceiling >= 0 && stmt_rows > stmt_ceiling)
		{
			stmt_approved = false;
			ag_budget_exceeded(rel, op, AG_RULE_APPROVAL_CEILING, stmt_rows, stmt_ceiling,
							   "the statement changed more rows than its approval allows");
		}
		return;
	}

	t = ag_table_rows(rel, op);

	if (t->action == AG_ACTION_ALLOW)
		return;					/* the policy exempts this table */
	if (t->action == AG_ACTION_DENY)
	{
		ag_budget_exceeded(rel, op, AG_RULE_POLICY, t->rows + 1, 0,
						   psprintf("agent_guard.policy row %d forbids this operation to this role on this table",
									t->policy_id));
		return;					/* dry run */
	}

	t->rows++;
	stmt_rows++;
	txn_rows++;

	/*
	 * Each check may end in a human's approval (a token spent): from then on
	 * the statement answers only to the approval.
	 */
	if (t->limit >= 0 && t->rows > t->limit)
		ag_budget_exceeded(rel, op, AG_RULE_ROW_BUDGET, t->rows, t->limit,
						   "the policy limits how many rows of this table one statement may change");
	if (stmt_approved)
		return;

	limit = stmt_role_limit >= 0 ? stmt_role_limit : ag_max_rows;
	if (limit > 0 && stmt_rows > limit)
		ag_budget_exceeded(rel, op, AG_RULE_ROW_BUDGET, stmt_rows, limit,
						   "an agent statement may not change more rows than its row budget");
	if (stmt_approved)
		return;

	if (ag_max_rows_per_transaction > 0 && txn_rows > ag_max_rows_per_transaction)
		ag_budget_exceeded(rel, op, AG_RULE_TXN_BUDGET, txn_rows,
						   ag_max_rows_per_transaction,
						   "an agent transaction may not change more rows than its transaction budget");
	if (stmt_approved)
		return;

	if (ag_window_max_rows > 0)
	{
		if (txn_window_base < 0)
			txn_window_base = ag_window_used(GetSessionUserId());
		if (txn_window_base + txn_rows > ag_window_max_rows)
			ag_budget_exceeded(rel, op, AG_RULE_WINDOW_BUDGET,
							   txn_window_base + txn_rows, ag_window_max_rows,
							   "an agent role may not change more rows within the time window than its window budget");
	}
}

/*
 * A top-level statement of the session begins: count it if this is an
 * agent session.
 */
void
ag_budget_statement_begin(PlannedStmt *pstmt)
{
	TimestampTz ts = GetCurrentStatementStartTimestamp();
	const void *first = pstmt;

	/*
	 * The plans a rule adds to a statement run as further top-level plans
	 * of the same portal: they share its budget.  A client statement is
	 * identified by its message's start time and the first plan of its
	 * portal (plans of one message live until the message is done, so two
	 * statements of one query string never share an address).
	 */
	if (ActivePortal != NULL && list_member_ptr(ActivePortal->stmts, pstmt))
		first = linitial(ActivePortal->stmts);
	if (ts == stmt_start && first == stmt_first)
		return;
	stmt_start = ts;
	stmt_first = first;

	if (ag_stmt_cxt == NULL)
		ag_stmt_cxt = AllocSetContextCreate(TopMemoryContext,
											"agent_guard statement",
											ALLOCSET_SMALL_SIZES);
	MemoryContextReset(ag_stmt_cxt);
	stmt_tables = NULL;
	stmt_ntables = 0;
	stmt_tables_alloc = 0;
	stmt_rows = 0;
	stmt_committed = 0;
	stmt_role_limit = -1;
	stmt_dry_finding = NULL;
	stmt_approved = false;
	stmt_ceiling = -1;
	stmt_active = ag_enabled && !IsParallelWorker() &&
		IsTransactionState() && ag_is_agent_session();
}

/*
 * A top-level plan or utility statement ended normally.  In dry run,
 * record the first budget the statement passed, with the rows it reached.
 */
void
ag_budget_statement_end(void)
{
	AgFinding  *f = stmt_dry_finding;

	/* Counting goes on: a rule may add plans to the same statement. */
	stmt_dry_finding = NULL;
	if (f == NULL || !IsTransactionState())
		return;
	if (strcmp(f->rule, AG_RULE_ROW_BUDGET) == 0)
		f->row_count = stmt_rows;
	f->detail = psprintf("The statement went on to change %lld rows.",
						 (long long) stmt_rows);
	(void) ag_record(f, AG_VERDICT_DRY_RUN, debug_query_string, -1, 0);
}

/* A table this small that was never analyzed is simply counted. */
#define AG_COUNT_PAGES 16

static double
ag_count_visible_rows(Relation rel)
{
	TableScanDesc scan;
	TupleTableSlot *slot;
	double		n = 0;
	Snapshot	snapshot = RegisterSnapshot(GetTransactionSnapshot());

	slot = table_slot_create(rel, NULL);
	scan = table_beginscan(rel, snapshot, 0, NULL);
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
		n++;
	table_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	UnregisterSnapshot(snapshot);
	return n;
}

/*
 * A human approved the current statement (ag_judge spent a token): from now
 * on it answers only to the approval's row ceiling (-1: none).
 */
void
ag_budget_approved(int64 max_rows)
{
	stmt_approved = true;
	stmt_ceiling = max_rows;
}

/* Estimated rows of a table (summed over partitions), -1 if unknown. */
double
ag_relation_row_estimate(Oid relid)
{
	HeapTuple	tup;
	double		rows = -1;
	char		relkind;

	relkind = get_rel_relkind(relid);
	if (relkind == RELKIND_PARTITIONED_TABLE)
	{
		List	   *parts = find_all_inheritors(relid, NoLock, NULL);
		ListCell   *lc;

		rows = 0;
		foreach(lc, parts)
			if (lfirst_oid(lc) != relid)
			{
				double		r = ag_relation_row_estimate(lfirst_oid(lc));

				if (r > 0)
					rows += r;
			}
		return rows;
	}

	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (HeapTupleIsValid(tup))
	{
		Form_pg_class form = (Form_pg_class) GETSTRUCT(tup);

		rows = form->reltuples;
		ReleaseSysCache(tup);
	}

	/*
	 * Never analyzed: ask the planner's estimator, but scale away its
	 * assumption that a small new table has ten pages.
	 */
	if (rows < 0 && (relkind == RELKIND_RELATION || relkind == RELKIND_MATVIEW))
	{
		Relation	rel = try_relation_open(relid, AccessShareLock);

		if (rel != NULL)
		{
			BlockNumber pages;
			BlockNumber actual = RelationGetNumberOfBlocks(rel);
			double		allvisfrac;

			if (actual <= AG_COUNT_PAGES)
				rows = ag_count_visible_rows(rel);
			else
			{
				estimate_rel_size(rel, NULL, &pages, &rows, &allvisfrac);
				if (pages > actual && pages > 0)
					rows = rows * actual / pages;
			}
			relation_close(rel, AccessShareLock);
		}
	}
	return rows < 0 ? -1 : rint(rows);
}

/* ---------------------------------------------------------------------
 * Transactions
 * ---------------------------------------------------------------------
 */
static void
ag_budget_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
			if (txn_rows > 0 && stmt_active)
				stmt_committed += txn_rows;
			if (txn_rows > 0 && !IsParallelWorker())
				ag_window_add(GetSessionUserId(), txn_rows);
			txn_rows = 0;
			txn_window_base = -1;
			subxact_depth = 0;
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:

			/*
			 * Counting goes on: a procedure may roll back and carry on
			 * within the same statement.
			 */
			ag_unwatch_aborted(1);
			ag_forget_plan_watches(1);
			if (stmt_active)
				stmt_rows = Max(0, stmt_rows - txn_rows);
			txn_rows = 0;
			txn_window_base = -1;
			subxact_depth = 0;
			break;
		default:
			break;
	}
}

static void
ag_budget_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						   SubTransactionId parentSubid, void *arg)
{
	switch (event)
	{
		case SUBXACT_EVENT_START_SUB:
			if (subxact_depth == subxact_alloc)
			{
				subxact_alloc = Max(8, subxact_alloc * 2);
				subxact_rows = subxact_rows ?
					repalloc(subxact_rows, subxact_alloc * sizeof(int64)) :
					MemoryContextAlloc(TopMemoryContext, subxact_alloc * sizeof(int64));
			}
			subxact_rows[subxact_depth++] = txn_rows;
			break;
		case SUBXACT_EVENT_COMMIT_SUB:
			if (subxact_depth > 0)
				subxact_depth--;
			break;
		case SUBXACT_EVENT_ABORT_SUB:
			ag_unwatch_aborted(GetCurrentTransactionNestLevel());
			ag_forget_plan_watches(GetCurrentTransactionNestLevel());
			if (subxact_depth > 0)
			{
				int64		before = subxact_rows[--subxact_depth];

				stmt_rows = Max(0, stmt_rows - (txn_rows - before));
				txn_rows = before;
			}
			break;
		default:
			break;
	}
}

void
ag_budget_init(void)
{
	heap_am = GetHeapamTableAmRoutine();
	counting_am = *heap_am;
	counting_am.tuple_delete = ag_tuple_delete;
	counting_am.tuple_update = ag_tuple_update;

	RegisterXactCallback(ag_budget_xact_callback, NULL);
	RegisterSubXactCallback(ag_budget_subxact_callback, NULL);
	CacheRegisterRelcacheCallback(ag_budget_relcache_callback, (Datum) 0);
}
