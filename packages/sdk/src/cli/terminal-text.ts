/**
 * Text that came from a workspace (a setup's error message and log tail), made safe to print on the
 * user's terminal: control characters other than newline and tab become '?', so a hostile
 * repository cannot send escape sequences that rewrite the screen or the window title.
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '?');
}
