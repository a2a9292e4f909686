// Runs inside a clone task container (no network, uid 1000), as `node -e <this> <json args>`.
// Every git call is argv (execFileSync), never a shell; names were validated by the contracts.
// Paths: /mirror (the bare mirror, read-only), /workspace (the workspace volume), /seed (the
// repo's node_modules seed, read-only, optional). The last line printed is `BERTH_RESULT <json>`.
'use strict';
const { execFileSync } = require('node:child_process');
const { createHash } = require('node:crypto');
const fs = require('node:fs');

const args = JSON.parse(process.argv[process.argv.length - 1]);
const root = args.root || '';
const mirror = `${root}/mirror`;
const dir = `${root}/workspace/repo`;
const seed = `${root}/seed`;
// The mirror belongs to repo-cache's user: trust it in a global config of this task's own (the
// local transport clears `-c` and GIT_CONFIG_* for upload-pack, but reads the global file).
const home = fs.mkdtempSync('/tmp/home-');
fs.writeFileSync(`${home}/.gitconfig`, '[safe]\n\tdirectory = *\n');
const gitEnv = { ...process.env, HOME: home, GIT_CONFIG_GLOBAL: `${home}/.gitconfig` };
// A checkout from a main image carries a .git made in a workspace: none of its hooks or
// command-running settings may run here.
const SAFE = ['-c', 'core.hooksPath=/dev/null', '-c', 'core.fsmonitor=false', '-c', 'protocol.allow=never', '-c', 'protocol.file.allow=always'];
const git = (...a) => execFileSync('git', [...SAFE, ...a], { encoding: 'utf8', env: gitEnv, stdio: ['ignore', 'pipe', 'inherit'] }).trim();
process.on('uncaughtException', (err) => {
  console.error(`checkout failed: ${err.message.split('\n')[0]}`);
  process.exit(1);
});

const lockfiles = ['package-lock.json', 'pnpm-lock.yaml', 'yarn.lock'];
const hashLock = () => {
  const lockfile = lockfiles.find((f) => fs.existsSync(`${dir}/${f}`)) || null;
  const hash = lockfile
    ? createHash('sha256')
        .update(fs.readFileSync(`${dir}/${lockfile}`))
        .update(`\n${args.installKey || ''}`)
        .digest('hex')
    : null;
  return { lockfile, hash };
};

const switching = args.mode === 'switch' && fs.existsSync(`${dir}/.git`);
// node_modules the main image brought, installed from this lockfile.
const before = switching && fs.existsSync(`${dir}/node_modules`) ? hashLock().hash : null;
if (switching) {
  // A checkout from the main image: fetch the branch from the mirror, then switch to it. The
  // index was written in the workspace the image was made from; its files reach this one through
  // the image and its tree with their size and mtime but new inodes and ctimes. Compared on size and
  // mtime only, the files the branch does not change count as clean: nothing else is read or
  // rewritten (by default git would take every file as changed, hash it and write it again, which
  // also copies the whole tree up into the workspace's own layer).
  const sameFile = ['-c', 'core.checkStat=minimal', '-c', 'core.trustctime=false'];
  git('-C', dir, 'fetch', '--no-tags', '--', mirror, `+refs/heads/${args.branch}:refs/remotes/origin/${args.branch}`);
  git('-C', dir, ...sameFile, 'checkout', '--force', '-B', args.branch, `refs/remotes/origin/${args.branch}`);
} else if (args.keepNodeModules) {
  // The owner's node_modules cache is mounted at ${dir}/node_modules in the workspace: that
  // directory (its mount point) stays; everything else goes, and the branch is fetched into place.
  // The workspace may have swapped either for a link (to /mirror, say): a link is removed, never followed.
  for (const path of [dir, `${dir}/node_modules`]) {
    if (fs.lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink()) fs.rmSync(path);
    fs.mkdirSync(path, { recursive: true });
  }
  for (const entry of fs.readdirSync(dir)) {
    if (entry !== 'node_modules') fs.rmSync(`${dir}/${entry}`, { recursive: true, force: true });
  }
  git('init', '--quiet', '--initial-branch', args.branch, '--', dir);
  git('-C', dir, 'remote', 'add', 'origin', mirror);
  git('-C', dir, 'fetch', '--no-tags', '--quiet', 'origin', `+refs/heads/${args.branch}:refs/remotes/origin/${args.branch}`);
  git('-C', dir, 'checkout', '--force', '-B', args.branch, '--track', `refs/remotes/origin/${args.branch}`);
} else {
  fs.rmSync(dir, { recursive: true, force: true });
  git('clone', '--no-hardlinks', '--branch', args.branch, '--', mirror, dir);
}
// Nothing in the checkout points at the mirror or carries a credential.
git('-C', dir, 'remote', 'set-url', 'origin', `https://github.com/${args.repo}.git`);
const sha = git('-C', dir, 'rev-parse', 'HEAD');

const { lockfile, hash: lockHash } = hashLock();
let devScript = false;
try {
  devScript = typeof JSON.parse(fs.readFileSync(`${dir}/package.json`, 'utf8')).scripts?.dev === 'string';
} catch {
  devScript = false;
}
// The main image's node_modules fit when the lockfile did not change with the branch.
let seeded = before !== null && before === lockHash;
const readKey = () => {
  try {
    return fs.readFileSync(`${seed}/key`, 'utf8').trim();
  } catch {
    return '';
  }
};
if (!seeded && args.seed && lockHash && readKey() === lockHash && fs.existsSync(`${seed}/node_modules`)) {
  fs.rmSync(`${dir}/node_modules`, { recursive: true, force: true });
  try {
    execFileSync('cp', ['-a', '--', `${seed}/node_modules`, `${dir}/node_modules`], { stdio: ['ignore', 'ignore', 'inherit'] });
    // A save that swapped the seed while we copied: the copy may be mixed, so it is not used.
    seeded = readKey() === lockHash;
  } catch {
    seeded = false;
  }
  if (!seeded) fs.rmSync(`${dir}/node_modules`, { recursive: true, force: true });
}
console.log(`BERTH_RESULT ${JSON.stringify({ sha, lockfile, lockHash, devScript, seeded })}`);
