import type { AgentDirs } from '../agent/agent-dirs.js';
import { readKeyFile, removeKeyFile, stageKeyFile, writeKeyFile, type StagedKeyFile } from './key-file.js';

/** Where a workspace's scoped LLM key is kept: nowhere else in berth, only its hash leaves. */
export interface KeyStore {
  read(id: string): Promise<string | undefined>;
  /** Puts `key` in force at once (a failed write leaves no temp file behind). */
  write(id: string, key: string): Promise<void>;
  /** Written but not in force until `commit` (rotate registers the new key in between). */
  stage(id: string, key: string): Promise<StagedKeyFile>;
  remove(id: string): Promise<void>;
}

/** In the workspace's agent directory on the host, as `llm-key` (the workspace sees it at /run/berth/llm-key). */
export function fileKeyStore(agents: AgentDirs): KeyStore {
  return {
    read: (id) => readKeyFile(agents.dir(id)),
    write: (id, key) => writeKeyFile(agents.dir(id), key),
    stage: (id, key) => stageKeyFile(agents.dir(id), key),
    remove: (id) => removeKeyFile(agents.dir(id)),
  };
}

/**
 * Agents off (no agent directories): keys live in pool-manager's memory only. A restart of
 * pool-manager forgets them: claimed workspaces then run commands without a key, and reconcile's
 * sync makes egress drop the old ones (rotate gives a workspace a new one).
 */
export function memoryKeyStore(): KeyStore {
  const keys = new Map<string, string>();
  return {
    read: (id) => Promise.resolve(keys.get(id)),
    write: (id, key) => {
      keys.set(id, key);
      return Promise.resolve();
    },
    stage: (id, key) =>
      Promise.resolve({
        commit: () => {
          keys.set(id, key);
          return Promise.resolve();
        },
        discard: () => Promise.resolve(),
      }),
    remove: (id) => {
      keys.delete(id);
      return Promise.resolve();
    },
  };
}
