// Type-level drop-in: tests/types/visio.ts, written the way Visio's front end uses its
// processors, must compile with Visio's strict compiler settings against the built package's
// declarations (pkg/index.d.ts) and livekit-client's own types, both at the version Visio pins
// (2.21, the npm alias livekit-client-2-21) and at the latest 2.x (livekit-client).
// The @ts-expect-error lines in visio.ts make it fail if the types stop refusing bad calls.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../browser/harness.mjs';

const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

function typeCheck(config) {
  assert.ok(existsSync(join(ROOT, 'pkg/index.d.ts')), 'pkg/ is built (node scripts/build.mjs)');
  const run = spawnSync(process.execPath, [TSC, '-p', join(ROOT, 'tests/types', config), '--pretty', 'false'],
    { cwd: ROOT, encoding: 'utf8' });
  assert.equal(run.status, 0, `tsc -p tests/types/${config}:\n${run.stdout}${run.stderr}`);
}

test('the declarations pass tsc --strict without skipLibCheck', () => typeCheck('tsconfig.declarations.json'));

test("Visio's processor code compiles against livekit-client 2.21 (Visio's version)", () => {
  typeCheck('tsconfig.livekit-2.21.json');
});

test("Visio's processor code compiles against the latest livekit-client 2.x", () => typeCheck('tsconfig.json'));
