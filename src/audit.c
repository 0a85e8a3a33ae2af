/*-------------------------------------------------------------------------
 *
 * audit.c
 *		The audit trail: a queue in shared memory and the background worker
 *		that writes it to agent_guard.audit_log in the audit database.
 *
 * A backend that reaches a decision fills a free slot, wakes the worker and
 * waits, up to agent_guard.audit_timeout, until the worker reports that the
 * row is committed.  The worker commits in its own transaction, so the row
 * survives the agent's rollback and lands in the audit database whatever
 * database the agent is in.  If the record cannot be made durable (no
 * worker, a full queue, a failed insert, the timeout), ag_audit_write()
 * returns false, the record goes to the server log as one JSON line, and
 * the caller refuses the statement: the guard fails closed.
 *
 * Routine records (agent_guard.audit_level = all) nobody waits for take
 * another road: a ring buffer of agent_guard.audit_queue_size bytes, to
 * which a backend appends its record under a short lock and goes on.  The
 * worker takes what the ring holds, writes it, and only then gives the
 * space back, so records a worker was writing when it died are written by
 * the next one.  It is woken when a quarter of the ring is used and looks
 * every 100 ms otherwise.  A backend that finds the ring full waits for
 * space up to agent_guard.audit_timeout, then logs the record instead.
 *
 * The worker writes rows straight into the heap and indexes of audit_log,
 * as COPY does, many per call; the BEFORE INSERT trigger would let rows
 * that come with their hash through unchanged.
 *
 * Locking: AgAuditShared->lock (exclusive) protects every slot's state
 * and the worker fields.  A backend that turns a slot FREE ->
 * FILLING owns its contents and copies its record in without the lock,
 * then marks it FILLED; it owns them again once the slot is DONE.  The
 * worker owns a slot while WRITING.  A backend that gives up waiting
 * clears 'waiting', and the worker then frees the slot itself.
 * AgAuditShared->ring_lock protects the ring's positions; bytes between
 * ring_read and ring_write belong to the worker, the rest to whoever
 * appends under the lock.  The condition variable is broadcast whenever
 * slots become DONE or FREE or ring space is given back.
 *
 * Memory: the worker copies slots out of shared memory into a loop
 * context that is reset after every round, and ring bytes into a buffer of
 * its own first.  Row values live in the (sub)transaction that writes them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "commands/dbcommands.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "parser/parse_relation.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/condition_variable.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/inet.h"
#include "utils/fmgroids.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "agent_guard.h"

#define AG_NSLOTS			64
#define AG_SLOT_DATA		16384
#define AG_MAX_FIELD		1024	/* cap for every field but the statements */
#define AG_NO_FIELD			0xFFFFFFFF

typedef enum AgSlotState
{
	AG_SLOT_FREE = 0,
	AG_SLOT_FILLING,			/* a backend copies its record in */
	AG_SLOT_FILLED,				/* waiting for the worker */
	AG_SLOT_WRITING,			/* the worker is writing it */
	AG_SLOT_DONE_OK,			/* committed */
	AG_SLOT_DONE_FAILED			/* could not be written; logged */
} AgSlotState;

typedef enum AgField
{
	AGF_DATABASE = 0,
	AGF_SESSION_ROLE,
	AGF_EFFECTIVE_ROLE,
	AGF_CLIENT_ADDR,
	AGF_APPLICATION_NAME,
	AGF_COMMAND_TAG,
	AGF_STATEMENT,
	AGF_TOP_STATEMENT,
	AGF_OBJECTS,				/* nobjects NUL-terminated strings */
	AGF_VERDICT,
	AGF_RULE,
	AGF_REASON,
	AGF_FINGERPRINT,
	AGF_APPROVER,
	AGF_TOKEN_HASH,				/* never logged */
	AGF__COUNT
} AgField;

static const char *const ag_field_names[AGF__COUNT] = {
	"database_name", "session_role", "effective_role", "client_addr",
	"application_name", "command_tag", "statement", "top_statement",
	"objects", "verdict", "rule", "reason", "fingerprint", "approver",
	"token_hash"
};

typedef struct AgSlot
{
	AgSlotState state;
	bool		waiting;		/* a backend waits for the outcome */
	AgRecordKind kind;
	int32		approvals;		/* approvers a filed request needs */
	int64		request_id;		/* in: of an approved run; out: filed/spent */
	bool		out_ok;			/* spend: the token was good and is spent */
	int64		audit_id;		/* the audit row written, 0 if none */
	char		row_hash[65];	/* its link in the hash chain */
	int64		out_max_rows;	/* spend: the approval's row ceiling, or -1 */
	char		out_text[512];	/* spend: approvers, or why not */
	TimestampTz logged_at;
	int32		backend_pid;
	int32		nobjects;
	int64		row_count;		/* -1: unknown */
	uint32		off[AGF__COUNT];	/* offsets into data, or AG_NO_FIELD */
	uint32		used;
	char		data[AG_SLOT_DATA];
} AgSlot;

/* A routine record in the ring: this header, then 'used' bytes of data. */
typedef struct AgRingRec
{
	uint32		len;			/* header and data, MAXALIGNed */
	int32		backend_pid;
	TimestampTz logged_at;
	int64		row_count;
	int32		nobjects;
	uint32		used;
	uint32		off[AGF__COUNT];
} AgRingRec;

/* The most ring bytes the worker takes in one transaction. */
#define AG_RING_TAKE		(256 * 1024)

typedef struct AgAuditShared
{
	LWLock	   *lock;
	LWLock	   *ring_lock;
	pid_t		worker_pid;		/* 0 when no worker runs */
	Latch	   *worker_latch;
	ConditionVariable cv;
	uint64		ring_write;		/* bytes ever appended to the ring */
	uint64		ring_read;		/* bytes ever written out by the worker */
	AgSlot		slots[AG_NSLOTS];
} AgAuditShared;

static AgAuditShared *ag_shared = NULL;
static char *ag_ring = NULL;	/* ag_ring_size bytes after *ag_shared */
static Size ag_ring_size = 0;
#ifdef AG_HAVE_SHMEM_REQUEST_HOOK
static shmem_request_hook_type prev_shmem_request_hook = NULL;
#endif
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* ---------------------------------------------------------------------
 * Shared memory
 * ---------------------------------------------------------------------
 */
static Size
ag_audit_shmem_size(void)
{
	return add_size(MAXALIGN(sizeof(AgAuditShared)),
					mul_size(ag_audit_queue_size, 1024));
}

static void
ag_shmem_request(void)
{
#ifdef AG_HAVE_SHMEM_REQUEST_HOOK
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
#endif
	RequestAddinShmemSpace(ag_audit_shmem_size());
	RequestNamedLWLockTranche("agent_guard", 2);
}

static void
ag_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	ag_shared = ShmemInitStruct("agent_guard", ag_audit_shmem_size(), &found);
	ag_ring = ((char *) ag_shared) + MAXALIGN(sizeof(AgAuditShared));
	ag_ring_size = (Size) ag_audit_queue_size * 1024;
	if (!found)
	{
		LWLockPadded *locks = GetNamedLWLockTranche("agent_guard");

		memset(ag_shared, 0, sizeof(AgAuditShared));
		ag_shared->lock = &locks[0].lock;
		ag_shared->ring_lock = &locks[1].lock;
		ConditionVariableInit(&ag_shared->cv);
	}
	LWLockRelease(AddinShmemInitLock);
}

void
ag_audit_shmem_request(void)
{
#ifdef AG_HAVE_SHMEM_REQUEST_HOOK
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = ag_shmem_request;
#else
	ag_shmem_request();
#endif
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = ag_shmem_startup;
}

void
ag_audit_register_worker(void)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS |
		BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 5;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "agent_guard");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "ag_audit_worker_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, AG_WORKER_TYPE);
	snprintf(worker.bgw_type, BGW_MAXLEN, AG_WORKER_TYPE);
	RegisterBackgroundWorker(&worker);
}

/* ---------------------------------------------------------------------
 * Records
 * ---------------------------------------------------------------------
 */

/*
 * Copy str into the slot as field f, clipped to maxlen bytes at a character
 * boundary; a clipped value ends with a note of its full length.
 */
static void
slot_put(AgSlot *slot, AgField f, const char *str, int maxlen)
{
	int			len;
	int			room;
	char		note[64] = "";

	if (str == NULL)
	{
		slot->off[f] = AG_NO_FIELD;
		return;
	}
	len = strlen(str);
	room = Min(maxlen, (int) (AG_SLOT_DATA - slot->used) - 1);
	if (len > room)
	{
		snprintf(note, sizeof(note), " ... [truncated, %d bytes in all]", len);
		room -= strlen(note);
		if (room < 0)
			room = 0;
		len = pg_mbcliplen(str, len, room);
	}
	slot->off[f] = slot->used;
	memcpy(slot->data + slot->used, str, len);
	slot->used += len;
	strcpy(slot->data + slot->used, note);
	slot->used += strlen(note) + 1;
}

static void
slot_put_objects(AgSlot *slot, List *objects)
{
	ListCell   *lc;
	int			budget = 4 * AG_MAX_FIELD;

	slot->off[AGF_OBJECTS] = slot->used;
	slot->nobjects = 0;
	foreach(lc, objects)
	{
		const char *obj = lfirst(lc);
		int			len = strlen(obj);

		if (len + 1 > budget || len + 1 > AG_SLOT_DATA - (int) slot->used)
			break;
		memcpy(slot->data + slot->used, obj, len + 1);
		slot->used += len + 1;
		budget -= len + 1;
		slot->nobjects++;
	}
}

static const char *
slot_get(const AgSlot *slot, AgField f)
{
	return slot->off[f] == AG_NO_FIELD ? NULL : slot->data + slot->off[f];
}

/* The client's address as text, NULL for a Unix socket or no client. */
static char *
ag_client_addr(void)
{
	LOCAL_FCINFO(fcinfo, 0);
	Datum		addr;

	InitFunctionCallInfoData(*fcinfo, NULL, 0, InvalidOid, NULL, NULL);
	addr = inet_client_addr(fcinfo);
	if (fcinfo->isnull)
		return NULL;
	return DatumGetCString(DirectFunctionCall1(inet_out, addr));
}

/* Fill a slot from a record and the session's identity. */
static void
ag_fill_slot(AgSlot *slot, const AgAuditRecord *rec, const char *dbname,
			 const char *session_role, const char *effective_role,
			 const char *client_addr)
{
	int			rest;

	slot->used = 0;
	slot->logged_at = GetCurrentTimestamp();
	slot->backend_pid = MyProcPid;
	slot->row_count = rec->row_count;
	slot->kind = rec->kind;
	slot->approvals = rec->approvals_required;
	slot->request_id = rec->request_id;
	slot->out_ok = false;
	slot->audit_id = 0;
	slot->row_hash[0] = '\0';
	slot->out_max_rows = -1;
	slot->out_text[0] = '\0';

	slot_put(slot, AGF_DATABASE, dbname, AG_MAX_FIELD);
	slot_put(slot, AGF_SESSION_ROLE, session_role, AG_MAX_FIELD);
	slot_put(slot, AGF_EFFECTIVE_ROLE, effective_role, AG_MAX_FIELD);
	slot_put(slot, AGF_CLIENT_ADDR, client_addr, AG_MAX_FIELD);
	slot_put(slot, AGF_APPLICATION_NAME, application_name, AG_MAX_FIELD);
	slot_put(slot, AGF_COMMAND_TAG, rec->command_tag, AG_MAX_FIELD);
	slot_put(slot, AGF_VERDICT, ag_verdict_name(rec->verdict), AG_MAX_FIELD);
	slot_put(slot, AGF_RULE, rec->rule, AG_MAX_FIELD);
	slot_put(slot, AGF_REASON, rec->reason, AG_MAX_FIELD);
	slot_put(slot, AGF_FINGERPRINT, rec->fingerprint, AG_MAX_FIELD);
	slot_put(slot, AGF_APPROVER, rec->approver, AG_MAX_FIELD);
	slot_put(slot, AGF_TOKEN_HASH, rec->token_hash, AG_MAX_FIELD);
	slot_put_objects(slot, rec->objects);

	/* The statements share what is left; the judged one comes first. */
	rest = AG_SLOT_DATA - slot->used - 2;
	if (rec->top_statement)
		slot_put(slot, AGF_STATEMENT, rec->statement, rest * 3 / 4);
	else
		slot_put(slot, AGF_STATEMENT, rec->statement, rest);
	slot_put(slot, AGF_TOP_STATEMENT, rec->top_statement,
			 AG_SLOT_DATA - slot->used - 1);
}

/* The record as one JSON object, for the server log. */
static char *
ag_slot_json(const AgSlot *slot)
{
	StringInfoData buf;
	int			f;

	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"logged_at\":");
	escape_json(&buf, timestamptz_to_str(slot->logged_at));
	appendStringInfo(&buf, ",\"backend_pid\":%d", slot->backend_pid);
	if (slot->row_count >= 0)
		appendStringInfo(&buf, ",\"row_count\":" INT64_FORMAT, slot->row_count);
	if (slot->request_id > 0)
		appendStringInfo(&buf, ",\"request_id\":" INT64_FORMAT, slot->request_id);
	if (slot->audit_id > 0)
		appendStringInfo(&buf, ",\"id\":" INT64_FORMAT ",\"row_hash\":\"%s\"",
						 slot->audit_id, slot->row_hash);
	for (f = 0; f < AGF__COUNT; f++)
	{
		const char *val = slot_get(slot, f);

		if (val == NULL || f == AGF_TOKEN_HASH)
			continue;
		appendStringInfo(&buf, ",\"%s\":", ag_field_names[f]);
		if (f == AGF_OBJECTS)
		{
			int			i;

			appendStringInfoChar(&buf, '[');
			for (i = 0; i < slot->nobjects; i++)
			{
				if (i > 0)
					appendStringInfoChar(&buf, ',');
				escape_json(&buf, val);
				val += strlen(val) + 1;
			}
			appendStringInfoChar(&buf, ']');
		}
		else
			escape_json(&buf, val);
	}
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

static void
ag_log_slot(const AgSlot *slot, const char *why)
{
	ereport(LOG,
			(errmsg_internal("agent_guard: audit record not written to agent_guard.audit_log (%s): %s",
							 why, ag_slot_json(slot))));
}

/* Stop waiting for a slot: free it if done, else leave it to the worker. */
static void
ag_release_slot(AgSlot *slot)
{
	LWLockAcquire(ag_shared->lock, LW_EXCLUSIVE);
	if (slot->state == AG_SLOT_DONE_OK || slot->state == AG_SLOT_DONE_FAILED)
		slot->state = AG_SLOT_FREE;
	slot->waiting = false;
	LWLockRelease(ag_shared->lock);
}

/*
 * Wait until the worker is done with the slot, and free it.  Returns the
 * outcome, or AG_SLOT_FILLED if the deadline passed first; the slot is then
 * left for the worker to free.
 */
static AgSlotState
ag_wait_for_slot(AgSlot *slot, TimestampTz deadline, AgAuditRecord *rec)
{
	AgSlotState outcome = AG_SLOT_FILLED;

	for (;;)
	{
		long		remaining;

		LWLockAcquire(ag_shared->lock, LW_EXCLUSIVE);
		if (slot->state == AG_SLOT_DONE_OK || slot->state == AG_SLOT_DONE_FAILED)
		{
			outcome = slot->state;
			rec->request_id = slot->request_id;
			rec->spent = slot->out_ok;
			rec->max_rows = slot->out_max_rows;
			rec->result_text = pstrdup(slot->out_text);
			slot->state = AG_SLOT_FREE;
			slot->waiting = false;
		}
		else if (GetCurrentTimestamp() >= deadline)
			slot->waiting = false;
		LWLockRelease(ag_shared->lock);

		if (outcome != AG_SLOT_FILLED)
			return outcome;
		remaining = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), deadline);
		if (remaining <= 0)
			return AG_SLOT_FILLED;
		ConditionVariableTimedSleep(&ag_shared->cv, Min(remaining, 1000),
									PG_WAIT_EXTENSION);
	}
}

/* Copy len bytes to the ring at position pos, wrapping at its end. */
static void
ag_ring_put(uint64 pos, const void *src, Size len)
{
	Size		at = pos % ag_ring_size;
	Size		first = Min(len, ag_ring_size - at);

	memcpy(ag_ring + at, src, first);
	memcpy(ag_ring, (const char *) src + first, len - first);
}

/* Copy len bytes from the ring at position pos. */
static void
ag_ring_get(uint64 pos, void *dst, Size len)
{
	Size		at = pos % ag_ring_size;
	Size		first = Min(len, ag_ring_size - at);

	memcpy(dst, ag_ring + at, first);
	memcpy((char *) dst + first, ag_ring, len - first);
}

/*
 * Append a routine record to the ring, waiting for space until the
 * deadline.  Returns NULL when it is queued, else why not.
 */
static const char *
ag_ring_append(const AgSlot *local, TimestampTz deadline)
{
	AgRingRec	head;
	Size		need = MAXALIGN(sizeof(AgRingRec) + local->used);
	uint64		pending = 0;
	Latch	   *latch = NULL;
	bool		queued = false;

	memset(&head, 0, sizeof(head));
	head.len = need;
	head.backend_pid = local->backend_pid;
	head.logged_at = local->logged_at;
	head.row_count = local->row_count;
	head.nobjects = local->nobjects;
	head.used = local->used;
	memcpy(head.off, local->off, sizeof(head.off));

	for (;;)
	{
		if (ag_shared->worker_pid == 0)
			break;
		LWLockAcquire(ag_shared->ring_lock, LW_EXCLUSIVE);
		if (ag_ring_size - (ag_shared->ring_write - ag_shared->ring_read) >= need)
		{
			ag_ring_put(ag_shared->ring_write, &head, sizeof(head));
			ag_ring_put(ag_shared->ring_write + sizeof(head), local->data, local->used);
			ag_shared->ring_write += need;
			pending = ag_shared->ring_write - ag_shared->ring_read;
			queued = true;
		}
		latch = ag_shared->worker_latch;
		LWLockRelease(ag_shared->ring_lock);

		if (queued || GetCurrentTimestamp() >= deadline)
			break;
		if (latch)
			SetLatch(latch);
		ConditionVariableTimedSleep(&ag_shared->cv, 10, PG_WAIT_EXTENSION);
	}
	ConditionVariableCancelSleep();

	if (!queued)
		return ag_shared->worker_pid == 0 ? "audit worker not running" : "audit queue full";

	/* Wake the worker once as the ring passes a quarter full. */
	if (latch && pending >= ag_ring_size / 4 && pending - need < ag_ring_size / 4)
		SetLatch(latch);
	return NULL;
}

/* Fill a slot from a record and the session's identity, read now. */
static void
ag_fill_slot_now(AgSlot *slot, const AgAuditRecord *rec)
{
	ag_fill_slot(slot, rec, get_database_name(MyDatabaseId),
				 GetUserNameFromId(GetSessionUserId(), true),
				 GetUserNameFromId(GetUserId(), true),
				 ag_client_addr());
}

/* ---------------------------------------------------------------------
 * Routine records
 *
 * The record of a top-level statement that needed no decision is filled
 * as the statement starts (catalog lookups need a live transaction) and
 * kept until it ends: at its end, or at the abort of the (sub)transaction
 * it ran in, it goes to the ring, unless a decision was recorded meanwhile
 * (a nested statement refused, a row budget, a dry run), whose row then
 * stands for the statement (its top_statement names it).
 * ---------------------------------------------------------------------
 */
static AgSlot *routine = NULL;	/* in TopMemoryContext */
static const void *routine_owner = NULL;	/* NULL: none pending */
static SubTransactionId routine_subid;
static bool routine_decided = false;

/* Queue the pending routine record, if any and if nothing decided. */
static void
ag_routine_flush(int64 row_count)
{
	const char *why;

	if (routine_owner == NULL)
		return;
	routine_owner = NULL;
	if (routine_decided || ag_shared == NULL)
		return;
	routine->row_count = row_count;
	why = ag_ring_append(routine,
						 TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
													 ag_audit_timeout));
	if (why != NULL)
		ag_log_slot(routine, why);
}

/*
 * A top-level statement that needs no decision starts: keep its record.
 * owner identifies the statement for ag_routine_end().
 */
void
ag_routine_begin(const AgAuditRecord *rec, const void *owner)
{
	ag_routine_flush(-1);		/* one that never reported its end */
	if (routine == NULL)
		routine = MemoryContextAlloc(TopMemoryContext, sizeof(AgSlot));
	ag_fill_slot_now(routine, rec);
	routine_owner = owner;
	routine_subid = GetCurrentSubTransactionId();
	routine_decided = false;
}

/* The statement owner started has ended, having processed row_count rows. */
void
ag_routine_end(const void *owner, int64 row_count)
{
	if (owner == routine_owner)
		ag_routine_flush(row_count);
}

static void
ag_routine_xact_callback(XactEvent event, void *arg)
{
	/*
	 * A failed statement's record goes at the abort.  A commit inside a
	 * procedure does not end the CALL: its record waits for the CALL's end.
	 */
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT ||
		ag_nesting_level == 0)
		ag_routine_flush(-1);
}

static void
ag_routine_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
							SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB && mySubid == routine_subid)
		ag_routine_flush(-1);
}

void
ag_audit_init(void)
{
	RegisterXactCallback(ag_routine_xact_callback, NULL);
	RegisterSubXactCallback(ag_routine_subxact_callback, NULL);
}

/*
 * Hand a decision's record to the audit worker and wait until it is
 * committed.  Returns true when the row is durable in agent_guard.audit_log;
 * false when it is not, in which case the record has gone to the server
 * log.
 */
bool
ag_audit_write(AgAuditRecord *rec)
{
	AgSlot	   *slot = NULL;
	AgSlot	   *local;
	Latch	   *latch;
	TimestampTz deadline;
	AgSlot	   *volatile held;
	volatile AgSlotState outcome;
	int			i;

	/* A decision's row stands for the statement (a token only if spent). */
	if (rec->kind == AG_REC_AUDIT || rec->kind == AG_REC_REQUEST)
		routine_decided = true;

	/* Everything that may fail or allocate, before taking the lock. */
	local = palloc0(sizeof(AgSlot));
	ag_fill_slot_now(local, rec);

	if (ag_shared == NULL)
	{
		ag_log_slot(local, "shared memory not initialized");
		return false;
	}

	deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
										   ag_audit_timeout);

	/* Find a free slot; wait for one if the queue is full. */
	for (;;)
	{
		LWLockAcquire(ag_shared->lock, LW_EXCLUSIVE);
		if (ag_shared->worker_pid == 0)
		{
			LWLockRelease(ag_shared->lock);
			ConditionVariableCancelSleep();
			ag_log_slot(local, "audit worker not running");
			return false;
		}
		for (i = 0; i < AG_NSLOTS; i++)
		{
			if (ag_shared->slots[i].state == AG_SLOT_FREE)
			{
				slot = &ag_shared->slots[i];
				slot->state = AG_SLOT_FILLING;
				break;
			}
		}
		LWLockRelease(ag_shared->lock);

		if (slot != NULL)
			break;
		if (GetCurrentTimestamp() >= deadline)
		{
			ConditionVariableCancelSleep();
			ag_log_slot(local, "audit queue full");
			return false;
		}
		ConditionVariableTimedSleep(&ag_shared->cv, 100, PG_WAIT_EXTENSION);
	}
	ConditionVariableCancelSleep();

	/* The slot is ours: fill it without holding the lock. */
	memcpy(((char *) slot) + offsetof(AgSlot, waiting),
		   ((char *) local) + offsetof(AgSlot, waiting),
		   offsetof(AgSlot, data) - offsetof(AgSlot, waiting) + local->used);
	slot->waiting = true;

	LWLockAcquire(ag_shared->lock, LW_EXCLUSIVE);
	slot->state = AG_SLOT_FILLED;
	latch = ag_shared->worker_latch;
	LWLockRelease(ag_shared->lock);

	/* A decision is written at once. */
	if (latch)
		SetLatch(latch);

	/*
	 * Wait for the worker's commit.  If we are cancelled meanwhile, let go of
	 * the slot so the worker frees it.
	 */
	held = slot;
	PG_TRY();
	{
		outcome = ag_wait_for_slot(held, deadline, rec);
	}
	PG_CATCH();
	{
		ag_release_slot(held);
		PG_RE_THROW();
	}
	PG_END_TRY();
	ConditionVariableCancelSleep();

	if (outcome == AG_SLOT_FILLED)
	{
		ag_log_slot(local, "timed out waiting for the audit worker");
		return false;
	}
	ConditionVariableBroadcast(&ag_shared->cv);
	if (rec->kind == AG_REC_SPEND && outcome == AG_SLOT_DONE_OK && rec->spent)
		routine_decided = true;

	/* A failed write was logged by the worker. */
	return outcome == AG_SLOT_DONE_OK;
}

/* ---------------------------------------------------------------------
 * The worker
 * ---------------------------------------------------------------------
 */

static void
ag_worker_detach(int code, Datum arg)
{
	LWLockAcquire(ag_shared->lock, LW_EXCLUSIVE);
	if (ag_shared->worker_pid == MyProcPid)
	{
		ag_shared->worker_pid = 0;
		ag_shared->worker_latch = NULL;
	}
	LWLockRelease(ag_shared->lock);
}

/*
 * The hash chain.  A row's hash covers these columns, in this order, each
 * serialized by type without regard to TimeZone, DateStyle or locale: the
 * audit worker computes it for the rows it writes, and audit_row_hash()
 * (verify_audit(), the trigger for other writers) for rows in the table,
 * from the same function over the same Datums.
 */
typedef enum AgHashCol
{
	AGH_PREV_HASH = 0, AGH_CHAIN_SEQ, AGH_ID, AGH_LOGGED_AT, AGH_DATABASE,
	AGH_SESSION_ROLE, AGH_EFFECTIVE_ROLE, AGH_CLIENT_ADDR, AGH_APPLICATION_NAME,
	AGH_BACKEND_PID, AGH_COMMAND_TAG, AGH_STATEMENT, AGH_TOP_STATEMENT,
	AGH_OBJECTS, AGH_ROW_COUNT, AGH_VERDICT, AGH_RULE, AGH_REASON,
	AGH_FINGERPRINT, AGH_REQUEST_ID, AGH_APPROVER,
	AGH__COUNT
} AgHashCol;

const char *const ag_hash_columns[AGH__COUNT + 1] = {
	"prev_hash", "chain_seq", "id", "logged_at", "database_name",
	"session_role", "effective_role", "client_addr", "application_name",
	"backend_pid", "command_tag", "statement", "top_statement",
	"objects", "row_count", "verdict", "rule", "reason",
	"fingerprint", "request_id", "approver", NULL
};

static const Oid ag_hash_types[AGH__COUNT] = {
	TEXTOID, INT8OID, INT8OID, TIMESTAMPTZOID, TEXTOID,
	TEXTOID, TEXTOID, INETOID, TEXTOID,
	INT4OID, TEXTOID, TEXTOID, TEXTOID,
	TEXTARRAYOID, INT8OID, TEXTOID, TEXTOID, TEXTOID,
	TEXTOID, INT8OID, TEXTOID
};

/* Append tag, the number in decimal, then end: "S12:", "I42;" and so on. */
static void
ag_hash_number(StringInfo buf, char tag, int64 v, char end)
{
	char		digits[MAXINT8LEN + 1];

	appendStringInfoChar(buf, tag);
	appendBinaryStringInfo(buf, digits, pg_lltoa(v, digits));
	appendStringInfoChar(buf, end);
}

static void
ag_hash_text(StringInfo buf, const char *v, int len)
{
	ag_hash_number(buf, 'S', len, ':');
	appendBinaryStringInfo(buf, v, len);
}

/*
 * Hex SHA-256 of a row given as Datums of the ag_hash_columns, in order.
 * Strings are length-prefixed, so no two rows serialize alike.
 */
char *
ag_audit_hash(Datum *values, bool *nulls)
{
	StringInfoData buf;
	int			i;
	char	   *hex;

	initStringInfo(&buf);
	for (i = 0; i < AGH__COUNT; i++)
	{
		if (nulls[i])
		{
			appendStringInfoString(&buf, "N;");
			continue;
		}
		switch (ag_hash_types[i])
		{
			case TEXTOID:
				{
					text	   *t = DatumGetTextPP(values[i]);

					ag_hash_text(&buf, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
					break;
				}
			case INT8OID:
				ag_hash_number(&buf, 'I', DatumGetInt64(values[i]), ';');
				break;
			case INT4OID:
				ag_hash_number(&buf, 'I', DatumGetInt32(values[i]), ';');
				break;
			case TIMESTAMPTZOID:
				ag_hash_number(&buf, 'T', DatumGetTimestampTz(values[i]), ';');
				break;
			case INETOID:
				{
					char	   *v = DatumGetCString(DirectFunctionCall1(inet_out, values[i]));

					ag_hash_text(&buf, v, strlen(v));
					break;
				}
			case TEXTARRAYOID:
				{
					ArrayType  *arr = DatumGetArrayTypeP(values[i]);
					Datum	   *elems;
					bool	   *enulls;
					int			n;
					int			j;

					deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT,
									  &elems, &enulls, &n);
					ag_hash_number(&buf, 'A', n, ':');
					for (j = 0; j < n; j++)
					{
						if (enulls[j])
							appendStringInfoString(&buf, "N;");
						else
						{
							text	   *t = DatumGetTextPP(elems[j]);

							ag_hash_text(&buf, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
						}
					}
					break;
				}
		}
	}
	hex = ag_sha256_hex(buf.data, buf.len);
	pfree(buf.data);
	return hex;
}

/* State of the chain while the worker writes a batch. */
static int64 chain_last_seq = 0;
static char chain_last_hash[65] = "";
static bool chain_has_last = false;
static Oid	audit_relid = InvalidOid;
static Oid	audit_id_seq = InvalidOid;
static SPIPlanPtr chain_end_plan = NULL;
static SPIPlanPtr chain_anchor_plan = NULL;

/* A query without parameters, prepared once per worker. */
static SPIPlanPtr
ag_kept_plan(SPIPlanPtr *plan, const char *sql)
{
	if (*plan == NULL)
	{
		SPIPlanPtr	p = SPI_prepare(sql, 0, NULL);

		if (p == NULL || SPI_keepplan(p) != 0)
			elog(ERROR, "could not prepare \"%s\": %s", sql,
				 SPI_result_code_string(SPI_result));
		*plan = p;
	}
	return *plan;
}

/*
 * At the start of a batch: take the chain's lock and read where it ends
 * (the last row, or the anchor a purge left), and the id sequence.  The
 * reads are not read-only, so they take a snapshot after the lock and see
 * what another appender committed while we waited for it.
 */
static void
ag_chain_begin(void)
{
	Oid			nsp = get_namespace_oid("agent_guard", false);

	audit_relid = get_relname_relid("audit_log", nsp);
	if (!OidIsValid(audit_relid))
		elog(ERROR, "agent_guard.audit_log does not exist");
	audit_id_seq = getIdentitySequence(audit_relid, 1, false);

	(void) DirectFunctionCall2(pg_advisory_xact_lock_int4,
							   Int32GetDatum(7142315), Int32GetDatum(1));
	if (SPI_execute_plan(ag_kept_plan(&chain_end_plan,
									  "SELECT chain_seq, row_hash FROM agent_guard.audit_log"
									  " ORDER BY chain_seq DESC LIMIT 1"),
						 NULL, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the end of the audit chain");
	if (SPI_processed == 0 &&
		SPI_execute_plan(ag_kept_plan(&chain_anchor_plan,
									  "SELECT last_chain_seq, last_row_hash FROM agent_guard.audit_anchor"
									  " ORDER BY last_chain_seq DESC LIMIT 1"),
						 NULL, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the audit chain's anchor");
	chain_has_last = SPI_processed == 1;
	chain_last_seq = 0;
	chain_last_hash[0] = '\0';
	if (chain_has_last)
	{
		bool		isnull;
		char	   *hash;

		chain_last_seq = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
													 SPI_tuptable->tupdesc, 1, &isnull));
		hash = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
		strlcpy(chain_last_hash, hash ? hash : "", sizeof(chain_last_hash));
	}
}

static Datum
ag_text_or_null(const char *v, bool *null)
{
	*null = (v == NULL);
	return v ? CStringGetTextDatum(v) : (Datum) 0;
}

static Datum
ag_objects_array(AgSlot *s)
{
	Datum	   *objs = palloc(sizeof(Datum) * Max(s->nobjects, 1));
	const char *o = slot_get(s, AGF_OBJECTS);
	int			j;

	for (j = 0; j < s->nobjects; j++)
	{
		objs[j] = CStringGetTextDatum(o);
		o += strlen(o) + 1;
	}
	return PointerGetDatum(construct_array(objs, s->nobjects, TEXTOID, -1,
										   false, TYPALIGN_INT));
}

/*
 * The Datums of the slot's audit row as the next link of the chain (the
 * ag_hash_columns, then row_hash), and advance the chain's end in memory.
 * verdict and approver may override the slot's.
 */
static void
ag_audit_row_values(AgSlot *s, const char *verdict, const char *approver,
					Datum *values, bool *nulls)
{
	char	   *client_addr = (char *) slot_get(s, AGF_CLIENT_ADDR);
	char	   *hash;

	values[AGH_PREV_HASH] = ag_text_or_null(chain_has_last ? chain_last_hash : NULL,
											&nulls[AGH_PREV_HASH]);
	values[AGH_CHAIN_SEQ] = Int64GetDatum(chain_last_seq + 1);
	nulls[AGH_CHAIN_SEQ] = false;
	values[AGH_ID] = Int64GetDatum(nextval_internal(audit_id_seq, false));
	nulls[AGH_ID] = false;
	values[AGH_LOGGED_AT] = TimestampTzGetDatum(s->logged_at);
	nulls[AGH_LOGGED_AT] = false;
	values[AGH_DATABASE] = ag_text_or_null(slot_get(s, AGF_DATABASE), &nulls[AGH_DATABASE]);
	values[AGH_SESSION_ROLE] = ag_text_or_null(slot_get(s, AGF_SESSION_ROLE), &nulls[AGH_SESSION_ROLE]);
	values[AGH_EFFECTIVE_ROLE] = ag_text_or_null(slot_get(s, AGF_EFFECTIVE_ROLE), &nulls[AGH_EFFECTIVE_ROLE]);
	nulls[AGH_CLIENT_ADDR] = (client_addr == NULL);
	values[AGH_CLIENT_ADDR] = client_addr ?
		DirectFunctionCall1(inet_in, CStringGetDatum(client_addr)) : (Datum) 0;
	values[AGH_APPLICATION_NAME] = ag_text_or_null(slot_get(s, AGF_APPLICATION_NAME), &nulls[AGH_APPLICATION_NAME]);
	values[AGH_BACKEND_PID] = Int32GetDatum(s->backend_pid);
	nulls[AGH_BACKEND_PID] = false;
	values[AGH_COMMAND_TAG] = ag_text_or_null(slot_get(s, AGF_COMMAND_TAG), &nulls[AGH_COMMAND_TAG]);
	values[AGH_STATEMENT] = ag_text_or_null(slot_get(s, AGF_STATEMENT), &nulls[AGH_STATEMENT]);
	values[AGH_TOP_STATEMENT] = ag_text_or_null(slot_get(s, AGF_TOP_STATEMENT), &nulls[AGH_TOP_STATEMENT]);
	values[AGH_OBJECTS] = ag_objects_array(s);
	nulls[AGH_OBJECTS] = false;
	values[AGH_ROW_COUNT] = Int64GetDatum(s->row_count);
	nulls[AGH_ROW_COUNT] = s->row_count < 0;
	values[AGH_VERDICT] = ag_text_or_null(verdict ? verdict : slot_get(s, AGF_VERDICT), &nulls[AGH_VERDICT]);
	values[AGH_RULE] = ag_text_or_null(slot_get(s, AGF_RULE), &nulls[AGH_RULE]);
	values[AGH_REASON] = ag_text_or_null(slot_get(s, AGF_REASON), &nulls[AGH_REASON]);
	values[AGH_FINGERPRINT] = ag_text_or_null(slot_get(s, AGF_FINGERPRINT), &nulls[AGH_FINGERPRINT]);
	values[AGH_REQUEST_ID] = Int64GetDatum(s->request_id);
	nulls[AGH_REQUEST_ID] = s->request_id <= 0;
	values[AGH_APPROVER] = ag_text_or_null(approver ? approver : slot_get(s, AGF_APPROVER), &nulls[AGH_APPROVER]);

	hash = ag_audit_hash(values, nulls);
	values[AGH__COUNT] = CStringGetTextDatum(hash);
	nulls[AGH__COUNT] = false;

	chain_last_seq++;
	strlcpy(chain_last_hash, hash, sizeof(chain_last_hash));
	chain_has_last = true;
	s->audit_id = DatumGetInt64(values[AGH_ID]);
	strlcpy(s->row_hash, hash, sizeof(s->row_hash));
}

/* Rows handed to one table_multi_insert() call. */
#define AG_INSERT_CHUNK		100

/*
 * Insert rows given as rows[r][column] Datums (the ag_hash_columns, then
 * row_hash) straight into audit_log's heap and indexes, as COPY does.
 * What the executor would add is not needed: the BEFORE INSERT trigger
 * lets rows that come with their hash through unchanged, the worker's
 * verdicts satisfy the CHECK constraint, and NOT NULL is checked here.
 */
static void
ag_insert_audit_rows(Datum (*rows)[AGH__COUNT + 1], bool (*rnulls)[AGH__COUNT + 1],
					 int nrows)
{
	Relation	rel = table_open(audit_relid, RowExclusiveLock);
	TupleDesc	desc = RelationGetDescr(rel);
	EState	   *estate = CreateExecutorState();
	ResultRelInfo *rri = makeNode(ResultRelInfo);
	CommandId	cid = GetCurrentCommandId(true);
	AttrNumber	attno[AGH__COUNT + 1];
	TupleTableSlot **slots;
	int			nslots = Min(nrows, AG_INSERT_CHUNK);
	int			first;
	int			c;
	int			r;

	for (c = 0; c <= AGH__COUNT; c++)
	{
		const char *name = c < AGH__COUNT ? ag_hash_columns[c] : "row_hash";

		attno[c] = attnameAttNum(rel, name, false);
		if (attno[c] <= 0)
			elog(ERROR, "agent_guard.audit_log has no column \"%s\"", name);
	}
	InitResultRelInfo(rri, rel, 1, NULL, 0);
	ExecOpenIndices(rri, false);
	slots = palloc(sizeof(TupleTableSlot *) * nslots);
	for (r = 0; r < nslots; r++)
		slots[r] = table_slot_create(rel, NULL);

	for (first = 0; first < nrows; first += nslots)
	{
		int			n = Min(nslots, nrows - first);

		for (r = 0; r < n; r++)
		{
			TupleTableSlot *slot = slots[r];

			ExecClearTuple(slot);
			memset(slot->tts_isnull, true, desc->natts * sizeof(bool));
			for (c = 0; c <= AGH__COUNT; c++)
			{
				slot->tts_values[attno[c] - 1] = rows[first + r][c];
				slot->tts_isnull[attno[c] - 1] = rnulls[first + r][c];
			}
			for (c = 0; c < desc->natts; c++)
				if (TupleDescAttr(desc, c)->attnotnull && slot->tts_isnull[c])
					elog(ERROR, "agent_guard audit record has no value for column \"%s\"",
						 NameStr(TupleDescAttr(desc, c)->attname));
			ExecStoreVirtualTuple(slot);
		}
		table_multi_insert(rel, slots, n, cid, 0, NULL);
		for (r = 0; r < n; r++)
			(void) ag_insert_index_tuples(rri, slots[r], estate);
		ResetPerTupleExprContext(estate);
	}

	for (r = 0; r < nslots; r++)
		ExecDropSingleTupleTableSlot(slots[r]);
	ExecCloseIndices(rri);
	FreeExecutorState(estate);
	table_close(rel, NoLock);
	CommandCounterIncrement();
}

/* Insert the slot's audit row alone. */
static void
ag_insert_audit_row(AgSlot *s, const char *verdict, const char *approver)
{
	Datum		values[1][AGH__COUNT + 1];
	bool		nulls[1][AGH__COUNT + 1];

	ag_audit_row_values(s, verdict, approver, values[0], nulls[0]);
	ag_insert_audit_rows(values, nulls, 1);
}

/* File (or find) the approval request for the slot's statement. */
static int64
ag_file_request(AgSlot *s, bool intent)
{
	static const Oid argtypes[9] = {
		TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTARRAYOID, INT8OID, TEXTOID,
		INT4OID, BOOLOID
	};
	Datum		values[9];
	bool		isnulls[9];
	char		nulls[9];
	bool		isnull;
	Datum		d;
	int			i;

	memset(isnulls, 0, sizeof(isnulls));
	values[0] = ag_text_or_null(slot_get(s, AGF_SESSION_ROLE), &isnulls[0]);
	values[1] = ag_text_or_null(slot_get(s, AGF_DATABASE), &isnulls[1]);
	values[2] = ag_text_or_null(slot_get(s, AGF_STATEMENT), &isnulls[2]);
	values[3] = ag_text_or_null(slot_get(s, AGF_FINGERPRINT), &isnulls[3]);
	values[4] = ag_objects_array(s);
	values[5] = Int64GetDatum(s->row_count);
	isnulls[5] = s->row_count < 0;
	values[6] = ag_text_or_null(slot_get(s, AGF_RULE), &isnulls[6]);
	values[7] = Int32GetDatum(s->approvals);
	values[8] = BoolGetDatum(intent);
	for (i = 0; i < 9; i++)
		nulls[i] = isnulls[i] ? 'n' : ' ';

	if (SPI_execute_with_args("SELECT agent_guard.file_request($1, $2, $3, $4, $5, $6, $7, $8, $9)",
							  9, (Oid *) argtypes, values, nulls, false, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "could not file an agent_guard approval request");
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return isnull ? 0 : DatumGetInt64(d);
}

/* Check and spend a presented token; on success write the allow row. */
static void
ag_spend_token(AgSlot *s)
{
	static const Oid argtypes[5] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, INT4OID};
	Datum		values[5];
	bool		isnulls[5];
	char		nulls[5];
	bool		isnull;
	HeapTuple	tup;
	TupleDesc	desc;
	Datum		d;
	char	   *text;
	int			i;

	memset(isnulls, 0, sizeof(isnulls));
	values[0] = ag_text_or_null(slot_get(s, AGF_TOKEN_HASH), &isnulls[0]);
	values[1] = ag_text_or_null(slot_get(s, AGF_SESSION_ROLE), &isnulls[1]);
	values[2] = ag_text_or_null(slot_get(s, AGF_DATABASE), &isnulls[2]);
	values[3] = ag_text_or_null(slot_get(s, AGF_FINGERPRINT), &isnulls[3]);
	values[4] = Int32GetDatum(s->backend_pid);
	for (i = 0; i < 5; i++)
		nulls[i] = isnulls[i] ? 'n' : ' ';

	if (SPI_execute_with_args("SELECT ok, reason, request_id, approvers, max_rows"
							  " FROM agent_guard.spend_token($1, $2, $3, $4, $5)",
							  5, (Oid *) argtypes, values, nulls, false, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "could not check an agent_guard approval token");

	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	d = SPI_getbinval(tup, desc, 1, &isnull);
	s->out_ok = !isnull && DatumGetBool(d);
	d = SPI_getbinval(tup, desc, 3, &isnull);
	s->request_id = isnull ? 0 : DatumGetInt64(d);
	d = SPI_getbinval(tup, desc, 5, &isnull);
	s->out_max_rows = isnull ? -1 : DatumGetInt64(d);
	text = SPI_getvalue(tup, desc, s->out_ok ? 4 : 2);
	strlcpy(s->out_text, text ? text : "", sizeof(s->out_text));

	if (s->out_ok)
		ag_insert_audit_row(s, "allow", s->out_text);
}

/* Do what one slot asks for. */
static void
ag_worker_process_slot(AgSlot *s)
{
	switch (s->kind)
	{
		case AG_REC_AUDIT:
			ag_insert_audit_row(s, NULL, NULL);
			break;
		case AG_REC_REQUEST:
			s->request_id = ag_file_request(s, false);
			ag_insert_audit_row(s, NULL, NULL);
			break;
		case AG_REC_INTENT:
			s->request_id = ag_file_request(s, true);
			break;
		case AG_REC_SPEND:
			ag_spend_token(s);
			break;
	}
}

/*
 * Some slots, each in a subtransaction of its own... or, for a run of
 * plain audit rows, all in one subtransaction, retried one by one if it
 * fails.  ok[i] says whether slot i was done.  A failed subtransaction
 * leaves the chain's end where it was.
 */
static bool
ag_worker_slots(AgSlot **slots, int n, bool *ok)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	int64		saved_seq = chain_last_seq;
	bool		saved_has = chain_has_last;
	char		saved_hash[65];
	volatile bool done = true;
	int			i;

	strlcpy(saved_hash, chain_last_hash, sizeof(saved_hash));
	BeginInternalSubTransaction(NULL);
	PG_TRY();
	{
		if (n > 1)
		{
			/* A run of plain audit rows: one insert. */
			Datum		(*rows)[AGH__COUNT + 1] = palloc(sizeof(*rows) * n);
			bool		(*rnulls)[AGH__COUNT + 1] = palloc(sizeof(*rnulls) * n);

			for (i = 0; i < n; i++)
				ag_audit_row_values(slots[i], NULL, NULL, rows[i], rnulls[i]);
			ag_insert_audit_rows(rows, rnulls, n);
		}
		else
			ag_worker_process_slot(slots[0]);
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(oldcxt);
		EmitErrorReport();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		chain_last_seq = saved_seq;
		chain_has_last = saved_has;
		strlcpy(chain_last_hash, saved_hash, sizeof(chain_last_hash));
		done = false;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(oldcxt);
	CurrentResourceOwner = oldowner;
	for (i = 0; i < n; i++)
		ok[i] = done;
	return done;
}

static void
ag_worker_all_slots(AgSlot **batch, int n, bool *ok)
{
	int			i = 0;

	ag_chain_begin();
	while (i < n)
	{
		int			run = 1;

		/* A run of plain audit rows goes in together. */
		if (batch[i]->kind == AG_REC_AUDIT)
			while (i + run < n && batch[i + run]->kind == AG_REC_AUDIT)
				run++;
		if (!ag_worker_slots(&batch[i], run, &ok[i]) && run > 1)
		{
			int			j;

			for (j = 0; j < run; j++)
				(void) ag_worker_slots(&batch[i + j], 1, &ok[i + j]);
		}
		i += run;
	}
}

/* Does any backend wait for a record of this batch? */
static bool
ag_batch_has_waiter(AgSlot **batch, int n)
{
	int			i;

	for (i = 0; i < n; i++)
		if (batch[i]->waiting)
			return true;
	return false;
}

/*
 * Write the batch in one transaction, each slot in a subtransaction of its
 * own so that one bad record cannot lose the others.  ok[i] tells whether
 * slot i was done; returns false if the transaction as a whole failed.
 *
 * Returns with interrupts held, from just before the commit: a terminate
 * landing between the commit and the caller's handing the batch back would
 * have the next worker write it again.  The caller resumes them.
 */
static bool
ag_worker_insert(AgSlot **batch, int n, bool *ok)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	volatile bool committed = true;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PG_TRY();
	{
		SPI_connect();
		PushActiveSnapshot(GetTransactionSnapshot());
		pgstat_report_activity(STATE_RUNNING, "writing agent_guard audit records");

		/*
		 * Routine records only: nobody waits for them, so their commit need
		 * not wait for the WAL flush.  Decisions are committed durably.
		 */
		if (!ag_batch_has_waiter(batch, n))
			(void) set_config_option("synchronous_commit", "off",
									 PGC_SUSET, PGC_S_SESSION,
									 GUC_ACTION_LOCAL, true, ERROR, false);
		ag_worker_all_slots(batch, n, ok);
		SPI_finish();
		PopActiveSnapshot();
		HOLD_INTERRUPTS();
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		/* An error has reset the holdoff count, wherever it came from. */
		MemoryContextSwitchTo(oldcxt);
		EmitErrorReport();
		FlushErrorState();
		AbortCurrentTransaction();
		committed = false;
		HOLD_INTERRUPTS();
	}
	PG_END_TRY();

	pgstat_report_activity(STATE_IDLE, NULL);
	MemoryContextSwitchTo(oldcxt);
	return committed;
}

/*
 * Copy the records the ring holds, up to AG_RING_TAKE bytes, into worker
 * memory as slots.  *end is where they stop: the ring position to give
 * back once they are written.
 */
static AgSlot **
ag_ring_take(int *n, uint64 *end)
{
	static char *ring_copy = NULL;
	uint64		start;
	Size		avail;
	Size		off = 0;
	char	   *buf;
	AgSlot	  **recs;
	int			nalloc = 64;

	*n = 0;
	LWLockAcquire(ag_shared->ring_lock, LW_SHARED);
	start = ag_shared->ring_read;
	avail = Min(ag_shared->ring_write - start, AG_RING_TAKE);
	LWLockRelease(ag_shared->ring_lock);
	*end = start;
	if (avail == 0)
		return NULL;

	/* Bytes before ring_write are complete records and nobody rewrites them. */
	if (ring_copy == NULL)
		ring_copy = MemoryContextAlloc(TopMemoryContext, AG_RING_TAKE);
	buf = ring_copy;
	ag_ring_get(start, buf, avail);
	recs = palloc(sizeof(AgSlot *) * nalloc);
	while (off + sizeof(AgRingRec) <= avail)
	{
		AgRingRec  *head = (AgRingRec *) (buf + off);
		AgSlot	   *s;

		if (off + head->len > avail)
			break;
		s = palloc0(offsetof(AgSlot, data) + head->used);
		s->kind = AG_REC_AUDIT;
		s->backend_pid = head->backend_pid;
		s->logged_at = head->logged_at;
		s->row_count = head->row_count;
		s->nobjects = head->nobjects;
		s->used = head->used;
		memcpy(s->off, head->off, sizeof(s->off));
		memcpy(s->data, buf + off + sizeof(AgRingRec), head->used);
		if (*n == nalloc)
		{
			nalloc *= 2;
			recs = repalloc(recs, sizeof(AgSlot *) * nalloc);
		}
		recs[(*n)++] = s;
		off += head->len;
	}
	*end = start + off;
	return recs;
}

/*
 * Write a batch: slots taken from the queue (slot_index gives where each
 * came from) or records taken from the ring (up to ring_end).  Then log
 * what failed, or every row with log_format = json, and hand the batch
 * back, all with interrupts held since the commit.
 */
static void
ag_worker_batch(AgSlot **batch, int n, const int *slot_index, uint64 ring_end)
{
	bool	   *done = palloc(sizeof(bool) * n);
	bool		committed;
	int			i;

	committed = ag_worker_insert(batch, n, done);
	for (i = 0; i < n; i++)
	{
		if (!committed)
			done[i] = false;
		if (!done[i])
		{
			/* A rolled-back row has no id nor link. */
			batch[i]->audit_id = 0;
			batch[i]->row_hash[0] = '\0';
			if (batch[i]->kind != AG_REC_SPEND)
				ag_log_slot(batch[i], "insert failed");
		}
		else if (batch[i]->audit_id > 0 && ag_log_format == AG_LOG_FORMAT_JSON)
			ereport(LOG,
					(errmsg_internal("agent_guard audit: %s", ag_slot_json(batch[i])),
					 errhidestmt(true)));
	}

	if (slot_index != NULL)
	{
		LWLockAcquire(ag_shared->lock, LW_EXCLUSIVE);
		for (i = 0; i < n; i++)
		{
			AgSlot	   *s = &ag_shared->slots[slot_index[i]];

			if (s->waiting)
			{
				s->state = done[i] ? AG_SLOT_DONE_OK : AG_SLOT_DONE_FAILED;
				s->request_id = batch[i]->request_id;
				s->out_ok = done[i] && batch[i]->out_ok;
				s->out_max_rows = batch[i]->out_max_rows;
				memcpy(s->out_text, batch[i]->out_text, sizeof(s->out_text));
			}
			else
				s->state = AG_SLOT_FREE;
		}
		LWLockRelease(ag_shared->lock);
	}
	else
	{
		/* Written or logged: give the ring space back. */
		LWLockAcquire(ag_shared->ring_lock, LW_EXCLUSIVE);
		ag_shared->ring_read = ring_end;
		LWLockRelease(ag_shared->ring_lock);
	}
	RESUME_INTERRUPTS();
	ConditionVariableBroadcast(&ag_shared->cv);
}

void
ag_audit_worker_main(Datum main_arg)
{
	MemoryContext loop_cxt;
	int			i;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	BackgroundWorkerInitializeConnection(ag_audit_database, NULL, 0);
	pgstat_report_appname(AG_WORKER_TYPE);

	/*
	 * Slots a previous worker was writing when it died go round again;
	 * ring records it had taken are still in the ring.
	 */
	LWLockAcquire(ag_shared->lock, LW_EXCLUSIVE);
	for (i = 0; i < AG_NSLOTS; i++)
		if (ag_shared->slots[i].state == AG_SLOT_WRITING)
			ag_shared->slots[i].state = AG_SLOT_FILLED;
	ag_shared->worker_pid = MyProcPid;
	ag_shared->worker_latch = MyLatch;
	LWLockRelease(ag_shared->lock);
	on_shmem_exit(ag_worker_detach, (Datum) 0);

	ereport(LOG,
			(errmsg("agent_guard audit worker started, writing to database \"%s\"",
					ag_audit_database)));

	/* Room for a usual round, kept across resets. */
	loop_cxt = AllocSetContextCreate(TopMemoryContext,
									 "agent_guard audit worker",
									 0, 8 * AG_RING_TAKE, 8 * AG_RING_TAKE);

	for (;;)
	{
		AgSlot	   *slots[AG_NSLOTS];
		int			slot_index[AG_NSLOTS];
		AgSlot	  **ring_recs;
		int			nslots = 0;
		int			nring;
		uint64		ring_end;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}

		MemoryContextSwitchTo(loop_cxt);

		/*
		 * Decisions first, in a transaction of their own: a backend waits for
		 * each, and none should wait behind a ring's worth of routine rows.
		 * Take every filled slot; copy it out so the lock is short.
		 */
		LWLockAcquire(ag_shared->lock, LW_EXCLUSIVE);
		for (i = 0; i < AG_NSLOTS; i++)
		{
			AgSlot	   *s = &ag_shared->slots[i];

			if (s->state != AG_SLOT_FILLED)
				continue;
			s->state = AG_SLOT_WRITING;
			slots[nslots] = palloc(offsetof(AgSlot, data) + s->used);
			memcpy(slots[nslots], s, offsetof(AgSlot, data) + s->used);
			slot_index[nslots++] = i;
		}
		LWLockRelease(ag_shared->lock);
		if (nslots > 0)
			ag_worker_batch(slots, nslots, slot_index, 0);

		/* Then the routine records from the ring. */
		ring_recs = ag_ring_take(&nring, &ring_end);
		if (nring > 0)
			ag_worker_batch(ring_recs, nring, NULL, ring_end);

		MemoryContextSwitchTo(TopMemoryContext);
		MemoryContextReset(loop_cxt);
		if (nslots == 0 && nring == 0)
		{
			(void) WaitLatch(MyLatch,
							 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 100L, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
		}
	}
}
