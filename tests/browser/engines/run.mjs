// `npm run test:browser -- --engine firefox [--engine webkit ...] [files...]`: the browser
// tests in the engines named (default: all; the same as ENGINES=firefox,webkit).
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const engines = [];
const files = [];
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--engine') engines.push(argv[++i]);
  else if (argv[i].startsWith('--engine=')) engines.push(argv[i].slice('--engine='.length));
  else files.push(argv[i]);
}
const env = { ...process.env };
if (engines.length) env.ENGINES = engines.join(',');
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...(files.length ? files : [join(HERE, '..')])],
  { stdio: 'inherit', env });
process.exit(result.status ?? 1);
