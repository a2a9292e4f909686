import { setFlagsFromString } from 'node:v8';

/**
 * For a process that moves file bytes (gateway, pool-manager): V8 marks the heap in one pause
 * instead of incrementally. Bytes travel in off-heap buffers (socket reads, NATS messages); each
 * one allocated while the buffers allocated since the last full GC exceed V8's external-memory
 * limit started or advanced an incremental marking, so a 64 MB transfer cost about ten full GCs
 * per process, each finalised after dozens of marking steps, and half of the process's CPU
 * (bench:files-profile: 0.7 s of CPU per 64 MB in each of the two, 0.4 s without). The pauses
 * this brings back are short: the heaps are a few tens of MB.
 */
export function markHeapAtomically(): void {
  setFlagsFromString('--no-incremental-marking');
}
