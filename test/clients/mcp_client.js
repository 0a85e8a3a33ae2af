// mcp_client.js — drive an MCP PostgreSQL server over stdio the way an AI
// client calls its tools (JSON-RPC 2.0, one message per line), with the
// server connected as an agent role.  Prints "ok N - ..." / "not ok N - ...".
//
//   NODE_PATH=<npm cache>/node_modules node mcp_client.js
//
// Environment: MCP_SERVER (path of the server's entry point, run with node),
// AGENT_URL (agent connection string, database "app"), ADMIN_URL (superuser,
// database "postgres").
'use strict';

const { spawn } = require('child_process');
const readline = require('readline');
const { Client } = require('pg');

const { ok, broken, failed, count } = require('./tap');

const server = spawn(process.execPath,
	[process.env.MCP_SERVER, '--connection-string', process.env.AGENT_URL],
	{ stdio: ['pipe', 'pipe', 'pipe'],
	  // production: the server's pg-monitor would otherwise print to stdout
	  env: { ...process.env, NODE_ENV: 'production' } });
let stderr = '';
server.stderr.on('data', d => { stderr += d; });

const pending = new Map();
let nextId = 1;
readline.createInterface({ input: server.stdout }).on('line', line => {
	let msg;
	try {
		msg = JSON.parse(line);
	} catch (e) {
		console.log(`# non-JSON line from the server: ${line}`);
		return;
	}
	if (msg.id !== undefined && pending.has(msg.id)) {
		pending.get(msg.id)(msg);
		pending.delete(msg.id);
	}
});

function request(method, params) {
	const id = nextId++;
	const p = new Promise((resolve, reject) => {
		pending.set(id, resolve);
		setTimeout(() => reject(new Error(`timeout waiting for ${method}`)), 30000);
	});
	server.stdin.write(JSON.stringify({ jsonrpc: '2.0', id, method, params }) + '\n');
	return p;
}

function notify(method, params) {
	server.stdin.write(JSON.stringify({ jsonrpc: '2.0', method, params }) + '\n');
}

async function callTool(name, args) {
	const msg = await request('tools/call', { name, arguments: args });
	if (msg.error)
		return { isError: true, text: `JSON-RPC error ${msg.error.code}: ${msg.error.message}` };
	const text = (msg.result.content || []).map(c => c.text || '').join('\n');
	return { isError: !!msg.result.isError, text };
}

const sleep = ms => new Promise(r => setTimeout(r, ms));

async function main() {
	const init = await request('initialize', {
		protocolVersion: '2025-03-26',
		capabilities: {},
		clientInfo: { name: 'agent_guard-test-client', version: '1.0' },
	});
	ok(init.result && init.result.serverInfo,
		`MCP initialize: server ${init.result && JSON.stringify(init.result.serverInfo)}`);
	notify('notifications/initialized', {});

	const list = await request('tools/list', {});
	const names = (list.result && list.result.tools || []).map(t => t.name);
	ok(names.includes('pg_execute_sql') && names.includes('pg_execute_mutation'),
		`tools/list offers pg_execute_sql and pg_execute_mutation (${names.length} tools)`,
		names.join(' '));

	const admin = new Client({ connectionString: process.env.ADMIN_URL });
	await admin.connect();

	// Harmless calls work.
	const sel = await callTool('pg_execute_query',
		{ operation: 'count', query: 'SELECT * FROM orders' });
	ok(!sel.isError && /Total rows: 50\b/.test(sel.text),
		'harmless tool call pg_execute_query (count) works: 50 rows', sel.text);

	const ins = await callTool('pg_execute_mutation',
		{ operation: 'insert', table: 'orders', data: { id: 1001, note: 'from mcp' } });
	ok(!ins.isError, 'harmless write pg_execute_mutation (insert one row) works', ins.text);

	const upd = await callTool('pg_execute_sql',
		{ sql: "UPDATE orders SET note = 'mcp touched' WHERE id = 7", expectRows: false });
	ok(!upd.isError, 'harmless write pg_execute_sql (UPDATE ... WHERE id = 7) works', upd.text);

	// Destructive calls are refused by agent_guard, and the refusal text
	// reaches the AI client through the tool result.
	const drop = await callTool('pg_execute_sql',
		{ sql: 'DROP TABLE orders', expectRows: false });
	ok(drop.isError && /agent_guard: refused DROP TABLE/.test(drop.text),
		'destructive tool call pg_execute_sql (DROP TABLE orders) is refused by agent_guard',
		drop.text);

	const trunc = await callTool('pg_execute_sql',
		{ sql: 'TRUNCATE orders', expectRows: false, transactional: true });
	ok(trunc.isError && /agent_guard: refused/.test(trunc.text),
		'destructive tool call pg_execute_sql (TRUNCATE, transactional) is refused', trunc.text);

	// The server's own "WHERE clause is required" check is defeated by
	// where: "true"; agent_guard is not.
	const wipe = await callTool('pg_execute_mutation',
		{ operation: 'delete', table: 'orders', where: 'true' });
	ok(wipe.isError && /agent_guard: refused/.test(wipe.text),
		'destructive tool call pg_execute_mutation (delete where "true") is refused', wipe.text);

	// orders lives in database "app"; ask there.
	const app = new Client({ connectionString: process.env.ADMIN_URL.replace(/\/postgres(\?|$)/, '/app$1') });
	await app.connect();
	const left = await app.query('SELECT count(*)::int AS c FROM orders');
	ok(left.rows[0].c === 51, 'orders still holds its 50 rows plus the inserted one',
		left.rows[0].c);
	await app.end();

	// Audit: the denials are durable already; the harmless statements are
	// recorded asynchronously (audit_level = all for this role): poll.
	let rows = [];
	for (let i = 0; i < 50; i++) {
		rows = (await admin.query(
			`SELECT verdict, rule, command_tag, statement, database_name
			   FROM agent_guard.audit_log WHERE session_role = 'mcp_agent' ORDER BY id`)).rows;
		if (rows.some(r => r.verdict === 'allow' && /INSERT INTO "orders"/.test(r.statement)) &&
			rows.some(r => r.verdict === 'allow' && /UPDATE orders SET note/.test(r.statement)))
			break;
		await sleep(200);
	}
	const deny = rows.filter(r => r.verdict === 'deny');
	ok(deny.some(r => r.rule === 'drop_object' && r.statement === 'DROP TABLE orders' &&
		r.database_name === 'app'),
		'audit_log: deny row for DROP TABLE orders (rule drop_object, database app)',
		JSON.stringify(deny));
	ok(deny.some(r => r.rule === 'truncate'), 'audit_log: deny row for TRUNCATE');
	ok(deny.some(r => r.rule === 'unbounded_delete' && /DELETE FROM "orders" WHERE true/.test(r.statement)),
		'audit_log: deny row for the server\'s DELETE FROM "orders" WHERE true');
	ok(deny.length === 3, 'exactly 3 deny rows for mcp_agent', deny.length);
	ok(rows.some(r => r.verdict === 'allow' && /INSERT INTO "orders"/.test(r.statement)),
		'audit_log: allow row for the harmless INSERT (audit_level = all)');
	ok(rows.some(r => r.verdict === 'allow' && /UPDATE orders SET note/.test(r.statement)),
		'audit_log: allow row for the harmless UPDATE (audit_level = all)');
	ok(rows.some(r => r.verdict === 'allow' && /SELECT COUNT\(\*\)/i.test(r.statement)),
		'audit_log: allow row for the harmless count query (audit_level = all)');

	await admin.end();
	server.stdin.end();
	server.kill();
	console.log(`1..${count()}`);
	process.exit(failed() ? 1 : 0);
}

main().catch(err => {
	broken(`mcp_client.js failed: ${err && err.stack}`);
	if (stderr)
		console.log(`# server stderr:\n# ${stderr.split('\n').slice(-20).join('\n# ')}`);
	server.kill();
	process.exit(1);
});
