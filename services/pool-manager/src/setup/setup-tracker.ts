import type { SetupPhase, SetupStatus } from '@berth/contracts';
import type { OwnedSetupEvents } from './setup-events.js';
import type { SetupStore } from './setup-store.js';

/** One running setup's status: each change gets the next seq, is saved, then published, in order. */
export class SetupTracker {
  private phaseStarted = performance.now();

  constructor(
    public status: SetupStatus,
    private readonly store: SetupStore,
    private readonly events: OwnedSetupEvents,
    /** Told how long each phase took and how it ended (metrics). */
    private readonly onPhase: (phase: SetupPhase, ms: number, outcome: string) => void = () => undefined,
  ) {}

  get phase(): SetupPhase {
    return this.status.phase;
  }

  /** Moves to `phase`, recording how long the previous phase took. */
  async to(phase: SetupPhase, patch: Partial<Pick<SetupStatus, 'sha' | 'source' | 'error' | 'logTail'>> = {}): Promise<void> {
    const now = performance.now();
    const ms = Math.round(now - this.phaseStarted);
    const durations = { ...this.status.durations, [this.status.phase]: ms };
    this.onPhase(this.status.phase, ms, phase === 'failed' ? (patch.error?.code ?? 'failed') : 'ok');
    this.phaseStarted = now;
    this.status = { ...this.status, ...patch, phase, seq: this.status.seq + 1, at: new Date().toISOString(), durations };
    await this.store.save(this.status);
    await this.events.publish(this.status);
  }

  /** Adds facts (sha, source) to the current phase without a new status. */
  note(patch: Partial<Pick<SetupStatus, 'sha' | 'source'>>): void {
    this.status = { ...this.status, ...patch };
  }
}
