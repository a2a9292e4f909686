import { BerthError } from '@berth/contracts';

/** One instruction of a Dockerfile: its keyword (upper case) and the rest, continuation lines joined. */
interface Instruction {
  keyword: string;
  args: string;
}

/** Splits a Dockerfile into instructions (comments and blank lines dropped, `\` continuations joined). */
function instructions(text: string): Instruction[] {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  if (lines.some((l) => /^#\s*escape\s*=/i.test(l.trim()))) {
    throw new BerthError('TEMPLATE_INSTRUCTION_NOT_ALLOWED', 'the escape parser directive is not allowed in a template');
  }
  const out: Instruction[] = [];
  let current = '';
  for (const raw of lines) {
    const line = raw.trim();
    if (current === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue;
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    current += line;
    const m = /^(\S+)\s*(.*)$/s.exec(current.trim());
    if (m) out.push({ keyword: m[1]!.toUpperCase(), args: m[2]!.trim() });
    current = '';
  }
  if (current.trim()) {
    const m = /^(\S+)\s*(.*)$/s.exec(current.trim());
    if (m) out.push({ keyword: m[1]!.toUpperCase(), args: m[2]!.trim() });
  }
  return out;
}

/** Images a template may start from or copy from (checked against the engine by the caller). */
export interface CheckedDockerfile {
  /** Every image named by FROM or COPY --from that is not an earlier stage. */
  images: string[];
}

const URL_SOURCE = /^(?:[a-z][a-z0-9+.-]*:\/\/|git@)/i;

/**
 * What a template's Dockerfile may do: FROM only a plain image name (no flags, no variables: the
 * check must see the very image), COPY --from only a stage or such an image, ADD only from the
 * context (the engine fetches ADD URLs itself, outside the build's network). Everything else runs in
 * the build's containers, which have no network.
 */
export function checkDockerfile(text: string): CheckedDockerfile {
  const stages = new Set<string>();
  const images: string[] = [];
  const named = (ref: string) => {
    if (/[$\s]/.test(ref) || ref === '')
      throw new BerthError('TEMPLATE_BASE_NOT_ALLOWED', `image reference ${JSON.stringify(ref.slice(0, 200))} must be a plain image name`);
    if (!stages.has(ref.toLowerCase()) && !/^\d+$/.test(ref)) images.push(ref);
  };
  let sawFrom = false;
  for (const { keyword, args } of instructions(text)) {
    if (keyword === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+([a-zA-Z][a-zA-Z0-9_.-]*))?$/i.exec(args);
      if (!m || m[1]!.startsWith('--'))
        throw new BerthError('TEMPLATE_INSTRUCTION_NOT_ALLOWED', `FROM ${args.slice(0, 200)}: only FROM <image> [AS <stage>] is allowed`);
      named(m[1]!);
      if (m[2]) stages.add(m[2].toLowerCase());
      sawFrom = true;
      continue;
    }
    if (!sawFrom && keyword !== 'ARG') throw new BerthError('TEMPLATE_INSTRUCTION_NOT_ALLOWED', `${keyword} before the first FROM`);
    if (keyword === 'COPY' || keyword === 'ADD') {
      const words = args.startsWith('[') ? [] : args.split(/\s+/);
      const json = args.startsWith('[') ? parseJsonForm(keyword, args) : undefined;
      const sources = Array.isArray(json) ? json.map(String).slice(0, -1) : words.filter((w) => !w.startsWith('--')).slice(0, -1);
      for (const flag of words.filter((w) => w.startsWith('--'))) {
        const from = /^--from=(.*)$/i.exec(flag);
        if (from) named(from[1]!);
        else if (!/^--(?:chown|chmod)=/i.test(flag))
          throw new BerthError('TEMPLATE_INSTRUCTION_NOT_ALLOWED', `${keyword} ${flag} is not allowed in a template`);
      }
      if (keyword === 'ADD' && sources.some((s) => URL_SOURCE.test(s))) {
        throw new BerthError('TEMPLATE_INSTRUCTION_NOT_ALLOWED', "ADD from a URL is not allowed: the engine would fetch it outside the build's network");
      }
    }
    if (keyword === 'ONBUILD') throw new BerthError('TEMPLATE_INSTRUCTION_NOT_ALLOWED', 'ONBUILD is not allowed in a template');
  }
  if (!sawFrom) throw new BerthError('TEMPLATE_INSTRUCTION_NOT_ALLOWED', 'the Dockerfile has no FROM');
  return { images };
}

function parseJsonForm(keyword: string, args: string): unknown {
  try {
    return JSON.parse(args) as unknown;
  } catch {
    throw new BerthError('TEMPLATE_INSTRUCTION_NOT_ALLOWED', `${keyword} ${args.slice(0, 200)}: not a JSON array`);
  }
}
