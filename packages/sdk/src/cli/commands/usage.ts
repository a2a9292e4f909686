import type { LlmUsage, Usage } from '@berth/contracts';
import { allowOnly } from '../args.js';
import type { Command } from '../context.js';
import { EXIT, UsageError } from '../io.js';
import { json, table } from '../table.js';

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const usd = (v: number) => `$${v.toFixed(4)}`;
const tokens = (t: { requests: number; inputTokens: number; outputTokens: number; costUsd: number }) =>
  `${t.requests} requests, ${t.inputTokens} in / ${t.outputTokens} out tokens, ${usd(t.costUsd)}`;

function llmRows(llm: LlmUsage | undefined): string[][] {
  if (!llm) return [['LLM', 'unknown (egress did not answer)']];
  const limits = llm.limits
    ? `${llm.limits.requestsPerMinute} requests/min, ${llm.limits.tokensPerDay} tokens/day, ${llm.limits.spendCapUsdPerDay === null ? 'no spend cap' : `${usd(llm.limits.spendCapUsdPerDay)}/day`}`
    : 'none';
  return [
    ['LLM', `${tokens(llm)} (key ${llm.keyActive ? 'active' : 'revoked'})`],
    ...Object.entries(llm.byProvider).map(([provider, t]) => [`  ${provider}`, tokens(t)]),
    ['  today', `${llm.today.tokens} tokens, ${usd(llm.today.costUsd)}`],
    ['  limits', limits],
  ];
}

/** A usage sample as two columns for people. */
export function usageText(u: Usage): string {
  return table(
    ['', u.id],
    [
      ['CPU', `${u.cpuPercent.toFixed(1)}%`],
      ['MEMORY', `${mib(u.memoryBytes)} / ${mib(u.memoryLimitBytes)}`],
      ['PIDS', String(u.pids)],
      ['NETWORK', `rx ${u.netRxBytes} B, tx ${u.netTxBytes} B`],
      ...llmRows(u.llm),
    ],
  ).replace(/^\s+/, '');
}

export const usage: Command = async (p, { io, client }) => {
  allowOnly(p, ['json']);
  if (p.positionals.length !== 1) throw new UsageError('usage needs one container id');
  const u = await (await client()).containers.usage(p.positionals[0]!);
  io.out(p.values.json ? json(u) : usageText(u));
  return EXIT.ok;
};

/** `berth llm-key revoke|rotate ID`. */
export const llmKey: Command = async (p, { io, client }) => {
  allowOnly(p, ['json']);
  const [action, id, ...extra] = p.positionals;
  if ((action !== 'revoke' && action !== 'rotate') || id === undefined || extra.length > 0) {
    throw new UsageError('llm-key needs revoke or rotate and one container id');
  }
  const state = await (await client()).containers.llmKey(id, action);
  io.out(p.values.json ? json(state) : `${state.id}  llm key ${state.llmKey}\n`);
  return EXIT.ok;
};
