import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SecretBox } from '../src/callbacks/secret-box.js';
import { signCallback } from '../src/callbacks/signature.js';

const KEY = 'k'.repeat(40);

describe('sealed registrations', () => {
  const box = new SecretBox(KEY);

  it('round-trips and never contains the plain text', () => {
    const plain = JSON.stringify({ url: 'https://h.example.com/?t=abc', secret: 'super-secret-value-123' });
    const sealed = box.seal(plain, 'ws_1');
    expect(sealed).not.toContain('super-secret');
    expect(Buffer.from(sealed.slice(3), 'base64url').toString('latin1')).not.toContain('super-secret');
    expect(box.open(sealed, 'ws_1')).toBe(plain);
    expect(box.seal(plain, 'ws_1')).not.toBe(sealed); // fresh IV each time
  });

  it('does not open for another workspace, another key or after tampering', () => {
    const sealed = box.seal('x', 'ws_1');
    expect(() => box.open(sealed, 'ws_2')).toThrow();
    expect(() => new SecretBox('j'.repeat(40)).open(sealed, 'ws_1')).toThrow();
    const raw = Buffer.from(sealed.slice(3), 'base64url');
    raw[raw.length - 1]! ^= 1;
    expect(() => box.open(`v1.${raw.toString('base64url')}`, 'ws_1')).toThrow();
    expect(() => box.open('v2.abc', 'ws_1')).toThrow(/format/);
  });
});

describe('callback signature', () => {
  it('is sha256= and the hex HMAC of "timestamp.body"', () => {
    const body = '{"id":"ws_1","seq":1}';
    const expected = createHmac('sha256', 'secret-0123456789').update(`1700000000.${body}`).digest('hex');
    expect(signCallback('secret-0123456789', 1700000000, body)).toBe(`sha256=${expected}`);
    expect(signCallback('secret-0123456789', 1700000001, body)).not.toBe(`sha256=${expected}`);
  });
});
