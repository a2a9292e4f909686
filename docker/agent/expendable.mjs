// What the agent starts is what the OOM killer takes first. A command that fills the workspace's
// memory limit must die alone: were the agent chosen instead (node's mapped binary alone can outweigh
// a small command), every exec in flight would end without an exit code. Children inherit the
// oom_score_adj of the process that forks them, and an unprivileged process may move its own value
// anywhere at or above the floor its container was started with, so the agent raises its own value
// for the instant of the fork and lowers it again. spawn() forks synchronously: nothing else of the
// agent runs in between.
import { spawn as nodeSpawn, execFile as nodeExecFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import process from 'node:process';

const SCORE_FILE = '/proc/self/oom_score_adj';
/** The most the kernel allows: the child is the first candidate in its cgroup. */
export const CHILD_OOM_SCORE_ADJ = 1000;

const readScore = () => {
  try {
    return readFileSync(SCORE_FILE, 'utf8').trim();
  } catch {
    return undefined;
  }
};
/** The agent's own value, as its container started it. */
const own = readScore();

const write = (value) => {
  try {
    writeFileSync(SCORE_FILE, String(value));
    return true;
  } catch {
    return false;
  }
};

/** Runs `fork` with the agent's oom_score_adj raised, then puts the agent's own value back. */
function forkExpendable(fork) {
  const raised = own !== undefined && write(CHILD_OOM_SCORE_ADJ);
  try {
    return fork();
  } finally {
    // Lowering back is allowed (the floor is the container's start value); if it ever failed the
    // agent would stay the first candidate, so it says so once on stderr rather than silently.
    if (raised && !write(own)) process.stderr.write(`berth-agent: could not restore oom_score_adj ${own}\n`);
  }
}

/** child_process.spawn, the child the OOM killer's first choice. */
export const spawn = (...args) => forkExpendable(() => nodeSpawn(...args));
/** child_process.execFile, the child the OOM killer's first choice. */
export const execFile = (...args) => forkExpendable(() => nodeExecFile(...args));
