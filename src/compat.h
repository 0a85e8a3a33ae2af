/*-------------------------------------------------------------------------
 *
 * compat.h
 *		What differs between the PostgreSQL versions agent_guard targets.
 *
 * PostgreSQL 15 is built and tested on every CI run.  The branches for
 * 14 and 16-18 follow those releases' headers as documented in their
 * release notes; they are not built here (this platform ships only 15).
 *
 *-------------------------------------------------------------------------
 */
#ifndef AG_COMPAT_H
#define AG_COMPAT_H

#if PG_VERSION_NUM < 140000 || PG_VERSION_NUM >= 190000
#error "agent_guard supports PostgreSQL 14 to 18"
#endif

/* MERGE, and shmem_request_hook, arrived in 15. */
#if PG_VERSION_NUM >= 150000
#define AG_HAVE_MERGE 1
#define AG_HAVE_SHMEM_REQUEST_HOOK 1
#else
#define MarkGUCPrefixReserved(prefix) EmitWarningsOnPlaceholders(prefix)
#endif

/* 16 moved permission checks, checkAsUser included, to RTEPermissionInfo. */
#if PG_VERSION_NUM >= 160000
#define AG_HAVE_PERMINFOS 1
#endif

/* 16 made tuple_update report which indexes to update as an enum. */
#if PG_VERSION_NUM >= 160000
typedef TU_UpdateIndexes ag_update_indexes_t;
#else
typedef bool ag_update_indexes_t;
#endif

/* 16 added onlySummarizing to ExecInsertIndexTuples. */
#if PG_VERSION_NUM >= 160000
#define ag_insert_index_tuples(rri, slot, estate) \
	ExecInsertIndexTuples((rri), (slot), (estate), false, false, NULL, NIL, false)
#else
#define ag_insert_index_tuples(rri, slot, estate) \
	ExecInsertIndexTuples((rri), (slot), (estate), false, false, NULL, NIL)
#endif

/* 18: ExecutorStart returns whether the plan is still valid; ExecutorRun lost execute_once. */
#if PG_VERSION_NUM >= 180000
#define AG_EXECUTOR_START_RETURNS_BOOL 1
#define AG_EXECUTOR_RUN_HAS_EXECUTE_ONCE 0
#else
#define AG_EXECUTOR_RUN_HAS_EXECUTE_ONCE 1
#endif

#endif							/* AG_COMPAT_H */
