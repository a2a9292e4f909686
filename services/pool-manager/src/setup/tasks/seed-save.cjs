// Runs inside a task container (no network, uid 1000), as `node -e <this> <json args>`: copies
// /src/repo/node_modules (the workspace volume, read-only) into the seed volume at /workspace.
// The key is removed first and written last, so a reader never takes a half-written seed.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');

const args = JSON.parse(process.argv[process.argv.length - 1]);
const root = args.root || '';
const seed = `${root}/workspace`;
const from = `${root}/src/repo/node_modules`;
if (!fs.existsSync(from)) {
  console.log('BERTH_RESULT {"saved":false}');
  process.exit(0);
}
fs.rmSync(`${seed}/key`, { force: true });
fs.rmSync(`${seed}/node_modules.tmp`, { recursive: true, force: true });
execFileSync('cp', ['-a', '--', from, `${seed}/node_modules.tmp`], { stdio: ['ignore', 'ignore', 'inherit'] });
fs.rmSync(`${seed}/node_modules`, { recursive: true, force: true });
fs.renameSync(`${seed}/node_modules.tmp`, `${seed}/node_modules`);
fs.writeFileSync(`${seed}/key`, `${args.key}\n`);
console.log('BERTH_RESULT {"saved":true}');
