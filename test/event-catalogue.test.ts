import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ContainerEventKindSchema, EVENT_FAMILIES, EVENTS, SETUP_PHASES, WorkspaceStateSchema } from '@berth/contracts';
import { repoRoot } from '@berth/service-kit/testing';
import { describe, expect, it } from 'vitest';

// The event catalogue lists only what is produced: every container event kind has a publish call
// in a service's source, and every event family a publisher that builds its subject.
const sourcesOf = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourcesOf(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [readFileSync(path, 'utf8')] : [];
  });
const services = join(repoRoot(), 'services');
const source = readdirSync(services)
  .flatMap((s) => sourcesOf(join(services, s, 'src')))
  .join('\n');

describe('the event catalogue against the services that publish', () => {
  it.each(ContainerEventKindSchema.options)('container event kind %s is published somewhere', (kind) => {
    // events.publish(id, 'kind', pool, …), as pool-manager's EventPublisher is called.
    expect(source).toMatch(new RegExp(`\\.publish\\([^,()]+, '${kind}',`));
  });

  it.each(SETUP_PHASES)('setup phase %s is reached somewhere', (phase) => {
    // enter('phase', …) or tracker.to('phase') moves a setup on; the first status is written with phase: 'queued'.
    expect(source).toMatch(new RegExp(`enter\\('${phase}'|\\.to\\('${phase}'|phase: '${phase}'`));
  });

  it.each(WorkspaceStateSchema.options)('workspace state %s is stored or given somewhere', (state) => {
    // The Lua scripts set 'state', '<s>'; TypeScript writes state: '<s>' or falls back to it.
    expect(source).toMatch(new RegExp(`'state', '${state}'|state: '${state}'|\\?\\? '${state}'`));
  });

  it.each(
    Object.entries(EVENTS)
      .filter(([, v]) => typeof v === 'object' && 'pattern' in v)
      .map(([k]) => k),
  )('event family %s has a publisher', (family) => {
    expect(source).toContain(`EVENTS.${family}.subject(`);
  });

  it('docs/events.md lists exactly the kinds of the catalogue', () => {
    const doc = readFileSync(join(repoRoot(), 'docs', 'events.md'), 'utf8');
    const table = doc.slice(doc.indexOf('| kind | when |'), doc.indexOf('\n\n', doc.indexOf('| kind | when |')));
    const documented = [...table.matchAll(/^\| `([a-z-]+)` \|/gm)].map((m) => m[1]);
    expect(documented).toEqual([...ContainerEventKindSchema.options]);
  });

  it('the families checked are all the catalogue has', () => {
    expect(EVENT_FAMILIES.map((f) => f.pattern).sort()).toEqual([EVENTS.container.pattern, EVENTS.setup.pattern, EVENTS.usage.pattern].sort());
  });
});
