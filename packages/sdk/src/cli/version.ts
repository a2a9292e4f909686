import { readFileSync } from 'node:fs';

/**
 * The version in @berth/sdk's package.json: found by walking up from this file, since it sits at
 * a different depth in the source tree and in the built package.
 */
export function sdkVersion(): string {
  for (let dir = new URL('.', import.meta.url); ; dir = new URL('..', dir)) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === '@berth/sdk' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // No package.json here: keep walking up.
    }
    if (dir.pathname === '/') return 'unknown';
  }
}
