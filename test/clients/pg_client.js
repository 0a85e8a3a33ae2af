// pg_client.js — node-postgres (npm "pg") as an agent, over the extended
// query protocol.  Prints TAP-style "ok N - ..." / "not ok N - ..." lines.
//
//   NODE_PATH=<npm cache>/node_modules node pg_client.js
//
// Environment: AGENT_URL (the agent's connection string, database "app"),
// ADMIN_URL (a superuser's, database "postgres", where audit_log lives).
'use strict';

const { Client } = require('pg');

const { ok, broken, failed, count } = require('./tap');

// Run a named prepared statement; return {res} or {err}.
async function run(client, name, text, values) {
	try {
		return { res: await client.query({ name, text, values }) };
	} catch (err) {
		return { err };
	}
}

async function main() {
	const agent = new Client({ connectionString: process.env.AGENT_URL,
		application_name: 'pg_client.js' });
	const admin = new Client({ connectionString: process.env.ADMIN_URL });
	await agent.connect();
	await admin.connect();

	const who = await agent.query('SELECT current_user AS u');
	ok(who.rows[0].u === 'node_agent', 'connected as the agent role node_agent');

	// A prepared SELECT, executed past the generic-plan threshold (5).
	let allSelects = true;
	for (let i = 1; i <= 10; i++) {
		const r = await run(agent, 'sel', 'SELECT v FROM items WHERE id = $1', [i]);
		if (r.err || r.res.rows.length !== 1)
			allSelects = false;
	}
	ok(allSelects, 'prepared SELECT ... WHERE id = $1 executed 10 times');

	// A prepared, parameterised DELETE within budget, executed repeatedly
	// (custom plans, then the cached generic plan).
	let deleted = 0;
	let delErr = null;
	for (let i = 1; i <= 10; i++) {
		const r = await run(agent, 'del_one', 'DELETE FROM items WHERE id = $1', [i]);
		if (r.err)
			delErr = r.err;
		else
			deleted += r.res.rowCount;
	}
	ok(delErr === null && deleted === 10,
		'prepared DELETE ... WHERE id = $1 executed 10 times: allowed, 10 rows deleted',
		delErr ? delErr.message : `deleted ${deleted}`);

	// A prepared, parameterised UPDATE within budget.
	const up = await run(agent, 'upd', 'UPDATE items SET v = $2 WHERE id = $1', [20, 'changed']);
	ok(!up.err && up.res.rowCount === 1, 'prepared UPDATE ... WHERE id = $1: allowed',
		up.err && up.err.message);

	// DELETE ... WHERE $1: with false it restricts everything (allowed,
	// nothing deleted); with true it is unbounded (denied), also when the
	// statement has been executed often enough for a generic plan.
	let falseOk = true;
	for (let i = 0; i < 6; i++) {
		const r = await run(agent, 'del_where', 'DELETE FROM items WHERE $1', [false]);
		if (r.err || r.res.rowCount !== 0)
			falseOk = false;
	}
	ok(falseOk, 'prepared DELETE ... WHERE $1 with false, 6 times: allowed, no row deleted');

	const denials = [];
	for (let i = 0; i < 3; i++)
		denials.push(await run(agent, 'del_where', 'DELETE FROM items WHERE $1', [true]));
	const e = denials[0].err;
	if (e)
		console.log(`# client saw: code ${e.code}\n# message: ${e.message}\n# detail: ${e.detail}\n# hint: ${e.hint}`);
	ok(denials.every(d => d.err), 'prepared DELETE ... WHERE $1 with true, 3 times: refused every time');
	ok(e && e.code === '42501', 'the client receives SQLSTATE 42501', e && `code ${e.code}`);
	ok(e && /^agent_guard: refused/.test(e.message), 'message starts with "agent_guard: refused"',
		e && e.message);
	ok(e && typeof e.detail === 'string' && /unbounded_delete/.test(e.detail),
		'DETAIL arrives intact and names the rule unbounded_delete', e && e.detail);
	ok(e && typeof e.hint === 'string' && /human/.test(e.hint),
		'HINT arrives intact and tells what a human must do', e && e.hint);
	ok(e && e.severity === 'ERROR', 'severity ERROR', e && e.severity);

	// The connection is still usable after the error (no transaction left open).
	const cnt = await agent.query('SELECT count(*)::int AS c FROM items');
	ok(cnt.rows[0].c === 90, 'the session goes on; 90 of 100 rows remain', cnt.rows[0].c);

	// Unnamed extended-protocol statement with a parameter, bounded but
	// over the role's budget (agent_guard.max_rows = 20): refused at row 21.
	const un = await run(agent, undefined, 'DELETE FROM items WHERE id > $1', [0]);
	ok(un.err && un.err.code === '42501' && /^agent_guard: refused/.test(un.err.message),
		'unnamed parameterised DELETE ... WHERE id > $1 over the row budget (20): refused with 42501',
		un.err ? un.err.message : `no error, ${un.res.rowCount} rows deleted`);
	const still = await agent.query('SELECT count(*)::int AS c FROM items');
	ok(still.rows[0].c === 90, 'the over-budget DELETE rolled back: 90 rows remain', still.rows[0].c);

	// A denied statement inside an explicit transaction aborts it.
	await agent.query('BEGIN');
	const inTx = await run(agent, 'del_where', 'DELETE FROM items WHERE $1', [true]);
	const after = await run(agent, undefined, 'SELECT 1', []);
	await agent.query('ROLLBACK');
	ok(inTx.err && inTx.err.code === '42501' && after.err && after.err.code === '25P02',
		'in a transaction: refused, then the transaction is aborted (25P02)');

	// The audit log (durable before the client saw the error).
	const audit = await admin.query(
		`SELECT verdict, rule, command_tag, statement, application_name, session_role
		   FROM agent_guard.audit_log
		  WHERE session_role = 'node_agent' AND verdict = 'deny'
		  ORDER BY id`);
	const where = audit.rows.filter(r => r.rule === 'unbounded_delete' &&
		r.statement.includes('DELETE FROM items WHERE $1'));
	ok(where.length === 4,
		'audit_log holds one deny row per refused DELETE ... WHERE $1 (4)',
		JSON.stringify(audit.rows));
	ok(where.length > 0 && where[0].application_name === 'pg_client.js' &&
		where[0].command_tag === 'DELETE',
		'the deny row records application_name and command tag');
	ok(audit.rows.length === 5, 'no other deny rows for node_agent (5 in all)',
		audit.rows.length);

	await agent.end();
	await admin.end();
	console.log(`1..${count()}`);
	process.exit(failed() ? 1 : 0);
}

main().catch(err => {
	broken(`pg_client.js crashed: ${err && err.stack}`);
	process.exit(1);
});
