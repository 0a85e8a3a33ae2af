// tap.js — TAP-style result lines for the node client suites.
'use strict';

let n = 0;
let failed = 0;

// Print "ok N - name" or "not ok N - name", with extra as comment lines.
function ok(cond, name, extra) {
	n++;
	if (cond) {
		console.log(`ok ${n} - ${name}`);
	} else {
		failed++;
		console.log(`not ok ${n} - ${name}`);
		if (extra !== undefined)
			console.log(`# ${String(extra).replace(/\n/g, '\n# ')}`);
	}
}

// A check that could not even run: one "not ok" line.
function broken(name) {
	n++;
	failed++;
	console.log(`not ok ${n} - ${name}`);
}

module.exports = { ok, broken, failed: () => failed, count: () => n };
