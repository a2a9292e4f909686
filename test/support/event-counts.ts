import { EVENTS } from '@berth/contracts';
import type { NatsConnection } from '@berth/service-kit';
import { jetstreamManager } from '@nats-io/jetstream';

/**
 * How many times EVENTS holds each `created` event of the workspace ids starting with `idPrefix`
 * (subject → count), from the stream's per-subject state: no consumer needed, so pool-manager's
 * own user (stream info on EVENTS) can count.
 */
export async function createdEventCounts(nc: NatsConnection, idPrefix: string): Promise<Map<string, number>> {
  const jsm = await jetstreamManager(nc, { checkAPI: false });
  const info = await jsm.streams.info(EVENTS.stream, { subjects_filter: EVENTS.container.subject('*', 'created') });
  return new Map(Object.entries(info.state.subjects ?? {}).filter(([subject]) => subject.split('.')[3]!.startsWith(idPrefix)));
}

/** Events of `ids` missing from `counts`, and extra copies stored. */
export function lostAndDuplicated(ids: readonly string[], counts: Map<string, number>): { lost: number; duplicated: number } {
  let lost = 0;
  let duplicated = 0;
  for (const id of ids) {
    const n = counts.get(EVENTS.container.subject(id, 'created')) ?? 0;
    if (n === 0) lost += 1;
    else duplicated += n - 1;
  }
  return { lost, duplicated };
}
