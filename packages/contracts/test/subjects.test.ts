import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CATALOGUE_VERSION, CONTRACTS_VERSION, ContainerEventSchema, EVENTS, SUBJECTS } from '../src/index.js';

const entries = Object.entries(SUBJECTS);
const services = ['gateway', 'pool-manager', 'image-builder', 'repo-cache', 'log-streamer', 'egress'];

describe('SUBJECTS', () => {
  it('is not empty', () => {
    expect(entries.length).toBeGreaterThan(0);
  });

  it.each(entries)('%s is a berth.<domain>.<action> request subject with both schemas', (_key, entry) => {
    expect(entry.kind).toBe('request');
    expect(entry.subject.startsWith('berth.')).toBe(true);
    expect(entry.subject).toMatch(/^berth\.[a-z]+\.[a-z]+$/);
    expect(entry.subject.startsWith('berth.evt.')).toBe(false);
    expect(entry.request).toBeInstanceOf(z.ZodType);
    expect(entry.reply).toBeInstanceOf(z.ZodType);
    expect(services).toContain(entry.servedBy);
    expect(entry.description.length).toBeGreaterThan(10);
  });

  it('has no two keys on the same subject', () => {
    const subjects = entries.map(([, e]) => e.subject);
    expect(new Set(subjects).size).toBe(subjects.length);
  });

  it('request schemas accept their documented minimal shapes', () => {
    expect(SUBJECTS.poolList.request.safeParse({}).success).toBe(true);
    expect(SUBJECTS.containerList.request.safeParse({ owner: 'alice' }).success).toBe(true);
    expect(SUBJECTS.containerGet.request.safeParse({ id: 'ws_0123456789abcdef', owner: 'alice' }).success).toBe(true);
    expect(SUBJECTS.containerGet.request.safeParse({ id: '../etc', owner: 'alice' }).success).toBe(false);
    expect(SUBJECTS.containerUsage.request.safeParse({ id: 'ws_0123456789abcdef', owner: 'alice' }).success).toBe(true);
    expect(SUBJECTS.containerUsage.request.safeParse({ id: 'ws_0123456789abcdef' }).success).toBe(false);
    expect(SUBJECTS.containerCreate.request.safeParse({ owner: 'alice', requestId: 'req_12345678' }).success).toBe(true);
    expect(SUBJECTS.containerCreate.request.safeParse({ owner: 'alice', requestId: 'req_12345678', privileged: true }).success).toBe(false);
  });
});

describe('EVENTS', () => {
  it('lives under berth.evt. in the EVENTS stream', () => {
    expect(EVENTS.stream).toBe('EVENTS');
    expect(EVENTS.subjects).toEqual(['berth.evt.>']);
    expect(EVENTS.container.pattern).toBe('berth.evt.container.*.*');
    expect(EVENTS.container.schema).toBe(ContainerEventSchema);
  });

  it('builds container event subjects that match the pattern', () => {
    const subject = EVENTS.container.subject('ws_0123456789abcdef', 'claimed');
    expect(subject).toBe('berth.evt.container.ws_0123456789abcdef.claimed');
    const pattern = new RegExp(`^${EVENTS.container.pattern.replaceAll('.', '\\.').replaceAll('*', '[^.]+')}$`);
    expect(subject).toMatch(pattern);
  });
});

describe('versions', () => {
  it('the catalogue version is the contracts version, a v<N> literal', () => {
    expect(CATALOGUE_VERSION).toBe(CONTRACTS_VERSION);
    expect(CATALOGUE_VERSION).toMatch(/^v\d+$/);
  });
});
