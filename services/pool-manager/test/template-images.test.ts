import { BerthError, TEMPLATE_LABELS, WORKSPACE_IMAGE_LABEL } from '@berth/contracts';
import { templateImageTag } from '@berth/service-kit';
import { describe, expect, it } from 'vitest';
import { ImagePolicy } from '../src/image-policy.js';
import { FakeDriver } from './support/fake-driver.js';

const code = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: unknown) => (e instanceof BerthError ? e.code : String(e)),
  );

describe("templates are their owner's alone at create", () => {
  const driver = new FakeDriver();
  const alices = templateImageTag('alice', 'node');
  driver.images.set(alices, { [WORKSPACE_IMAGE_LABEL]: 'true', [TEMPLATE_LABELS.owner]: 'alice', [TEMPLATE_LABELS.name]: 'node' });
  const policy = new ImagePolicy(driver, []);

  it('image names are per owner (a digest of the owner, never the owner string)', () => {
    expect(alices).toMatch(/^berth\/template-[0-9a-f]{16}:node$/);
    expect(templateImageTag('mallory', 'node')).not.toBe(alices);
  });

  it('the owner creates from it by name; another owner naming it gets TEMPLATE_NOT_FOUND', async () => {
    expect(await code(policy.checkTemplate(alices, 'alice', 'node'))).toBe('ok');
    expect(await code(policy.checkTemplate(templateImageTag('mallory', 'node'), 'mallory', 'node'))).toBe('TEMPLATE_NOT_FOUND');
  });

  it('its image tag, named as an image by another owner, is refused as not found (a workspace image label is not enough)', async () => {
    expect(await code(policy.check(alices, 'mallory'))).toBe('TEMPLATE_NOT_FOUND');
    expect(await code(policy.check(alices, 'alice'))).toBe('ok');
  });

  it("an image wearing another name's labels is not that template", async () => {
    const fake = templateImageTag('alice', 'other');
    driver.images.set(fake, { [WORKSPACE_IMAGE_LABEL]: 'true', [TEMPLATE_LABELS.owner]: 'alice', [TEMPLATE_LABELS.name]: 'node' });
    expect(await code(policy.checkTemplate(fake, 'alice', 'other'))).toBe('TEMPLATE_NOT_FOUND');
  });
});
