import { BerthError, type IdleState, type KeepaliveRequest } from '@berth/contracts';
import type { PoolManagerConfig } from '../config.js';
import type { WorkspaceStore } from '../state/workspace-store.js';
import type { WorkspaceAccess } from '../workspaces/access.js';
import type { Pauses } from '../pause/pauses.js';
import { idleTimeoutMs, maxIdleTimeoutMs } from './idle-timeout.js';

type KeepaliveConfig = Pick<PoolManagerConfig, 'IDLE_TTL_MS' | 'IDLE_TTL_MAX_MS' | 'IDLE_WARNING_MS'>;

/**
 * `berth.container.keepalive` (PATCH /api/containers/:id, POST .../keepalive, followed logs): the
 * caller's workspace counts as active now and, when asked, gets its own idle timeout.
 */
export async function keepalive(
  req: KeepaliveRequest,
  d: { access: WorkspaceAccess; store: WorkspaceStore; config: KeepaliveConfig; pauses?: Pauses },
): Promise<IdleState> {
  const view = await d.access.get(req.id, req.owner);
  const settings = { ...(req.onIdle && { onIdle: req.onIdle }), ...(req.autoResume !== undefined && { autoResume: req.autoResume }) };
  if (d.pauses && !(await d.pauses.configure(req.id, settings))) throw new BerthError('CONTAINER_NOT_FOUND', `no container ${req.id}`);
  // Paused: not idle-reaped (its paused retention applies); a keepalive does not resume it.
  if (view.state === 'paused' && req.idleTimeoutSeconds === undefined) return { id: req.id, idleTimeoutSeconds: null, reapAt: null };
  const reaping = d.config.IDLE_TTL_MS > 0;
  const asked = req.idleTimeoutSeconds === undefined ? undefined : req.idleTimeoutSeconds * 1000;
  if (asked !== undefined && reaping && asked > maxIdleTimeoutMs(d.config)) {
    throw new BerthError('IDLE_TIMEOUT_TOO_LONG', `idleTimeoutSeconds must be at most ${Math.floor(maxIdleTimeoutMs(d.config) / 1000)} on this host`);
  }
  const now = Date.now();
  const done = asked !== undefined && reaping ? await d.store.setIdleTimeout(req.id, asked) : await d.store.touch(req.id);
  // Removed between the check and the write.
  if (!done) throw new BerthError('CONTAINER_NOT_FOUND', `no container ${req.id}`);
  if (!reaping) return { id: req.id, idleTimeoutSeconds: null, reapAt: null };
  const own = asked ?? Number((await d.store.get(req.id))?.idleTimeoutMs ?? 0);
  const timeout = idleTimeoutMs(own, d.config);
  return { id: req.id, idleTimeoutSeconds: Math.round(timeout / 1000), reapAt: new Date(now + timeout).toISOString() };
}
