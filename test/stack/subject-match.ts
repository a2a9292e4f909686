/** NATS subject matching: `*` matches one token, a final `>` one or more. */
function subjectMatches(subject: string, pattern: string): boolean {
  const s = subject.split('.');
  const p = pattern.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return i === p.length - 1 && s.length > i;
    if (i >= s.length || (p[i] !== '*' && p[i] !== s[i])) return false;
  }
  return s.length === p.length;
}

export const matchesAny = (subject: string, patterns: readonly string[]): boolean => patterns.some((p) => subjectMatches(subject, p));
