import { LOGS, parseLogMessage, type LogAppendReply, type LogAppendRequest, type LogBatch } from '@berth/contracts';
import { JetStreamApiCodes, JetStreamApiError, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';

const encoder = new TextEncoder();
/** Tries when another writer stored a batch of the same container between our read and our publish. */
const MAX_ATTEMPTS = 10;
/** Two writers that raced wait a random while before reading again, so they do not race again in step. */
const raceBackoff = (attempt: number) => new Promise((r) => setTimeout(r, Math.random() * 5 * attempt));

/** Now in Docker's fixed nine-digit form, so it orders against stored timestamps as a string. */
const dockerNow = (now: number) => `${new Date(now).toISOString().slice(0, 23)}000000Z`;

/**
 * `berth.logs.append`: a setup's lines into LOGS on `berth.logs.<id>.setup`, one batch a request.
 * Each batch continues the last stored one (its `before` count, and (ts, n) that only grow, as
 * readers deduplicate by them), read from the stream itself, so any log-streamer (or one that
 * restarted) continues correctly; the publish expects that last message to be the subject's last
 * (and its message id is the position), so two writers never store the same position twice: the
 * loser reads again and retries.
 */
export class SetupAppender {
  /** Requests of one container, one at a time. */
  private readonly chains = new Map<string, Promise<unknown>>();

  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly now: () => number = Date.now,
  ) {}

  append(req: LogAppendRequest): Promise<LogAppendReply> {
    const previous = this.chains.get(req.id) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(() => this.store(req));
    this.chains.set(req.id, run);
    void run
      .catch(() => undefined)
      .finally(() => {
        if (this.chains.get(req.id) === run) this.chains.delete(req.id);
      });
    return run;
  }

  private async store(req: LogAppendRequest): Promise<LogAppendReply> {
    const subject = LOGS.subject(req.id, 'setup');
    for (let attempt = 1; ; attempt++) {
      const last = await this.jsm.streams.getMessage(LOGS.stream, { last_by_subj: subject });
      const stored = last ? parseLogMessage(last.json()) : undefined;
      const prev = stored?.lines[stored.lines.length - 1];
      const now = dockerNow(this.now());
      const ts = prev && prev.ts > now ? prev.ts : now;
      const first = prev?.ts === ts ? prev.n + 1 : 0;
      const body: LogBatch = {
        before: stored ? stored.before + stored.lines.length : 0,
        lines: req.lines.map((l, i) => ({ ts, n: first + i, line: l.line, phase: l.phase })),
      };
      const msgID = LOGS.msgId(req.id, 'setup', body.lines[0]!, body.lines[body.lines.length - 1]!);
      try {
        const ack = await this.js.publish(subject, encoder.encode(JSON.stringify(body)), {
          msgID,
          expect: { lastSubjectSequence: last?.seq ?? 0 },
          timeout: 10_000,
        });
        // The same position stored by another writer a moment ago (the duplicate check comes before the expected sequence's).
        if (!ack.duplicate) return { stored: body.lines.length };
      } catch (err) {
        const raced = err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamWrongLastSequence;
        if (!raced) throw err;
      }
      if (attempt >= MAX_ATTEMPTS) throw new Error(`setup lines of ${req.id} raced another writer ${MAX_ATTEMPTS} times`);
      await raceBackoff(attempt);
    }
  }
}
