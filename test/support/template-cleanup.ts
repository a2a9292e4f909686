import { execFileSync } from 'node:child_process';
import { IMAGE_TREE_LABELS } from '@berth/contracts';
import { templateImageTag } from '@berth/service-kit';

const quiet = (args: string[]) => {
  try {
    execFileSync('docker', args, { stdio: 'ignore' });
  } catch {
    /* already gone */
  }
};

/**
 * After a stack's tests: its owners' templates and the image trees its image-builder made (the
 * stack's image GC never ran on them). Only what this stack built: trees are labelled with its host.
 */
export function removeTemplates(hostId: string, owners: string[], names: string[]): void {
  for (const owner of owners) for (const name of names) quiet(['rmi', '-f', templateImageTag(owner, name)]);
  const trees = execFileSync('docker', ['volume', 'ls', '-q', '--filter', `label=${IMAGE_TREE_LABELS.builder}=${hostId}`], { encoding: 'utf8' });
  for (const volume of trees.split('\n').filter(Boolean)) quiet(['volume', 'rm', volume]);
}
