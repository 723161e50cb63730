/**
 * Where a JSON text stops being valid. `JSON.parse` says *what* is wrong but, for its most common message
 * ("Unexpected token 'x', ... is not valid JSON"), not *where*; a quarantine sidecar must say where, so an
 * operator can open the file at the right line. Cold path only: called after `JSON.parse` already failed.
 *
 * An iterative scanner (no recursion, so a deeply nested file cannot overflow the stack) that follows
 * RFC 8259 as V8 does. Pure and total: never throws.
 */

/** Character offset of the first error in `text`, or undefined when `text` is one valid JSON value. */
export function jsonErrorOffset(text: string): number | undefined {
  const n = text.length;
  let i = 0;
  // What may come next inside each open container: 'v' a value, 'k' a key, ',' a comma or the close.
  const stack: Array<'{' | '['> = [];
  let expect: 'value' | 'key' | 'after-value' | 'after-key' = 'value';
  const ws = (): void => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
  };
  const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

  /** Scans a string starting at the quote; returns the offset after it, or the error offset negated - 1. */
  const scanString = (): number => {
    let j = i + 1;
    while (j < n) {
      const c = text.charCodeAt(j);
      if (c === 0x22) return j + 1;
      if (c < 0x20) return -j - 1;
      if (c === 0x5c) {
        const e = text[j + 1];
        if (e === undefined) return -(j + 1) - 1;
        if (e === 'u') {
          for (let k = 2; k < 6; k++) {
            if (!/[0-9a-fA-F]/.test(text[j + k] ?? '')) return -(j + k) - 1;
          }
          j += 6;
          continue;
        }
        if (!'"\\/bfnrt'.includes(e)) return -(j + 1) - 1;
        j += 2;
        continue;
      }
      j++;
    }
    return -n - 1;
  };

  while (true) {
    ws();
    if (expect === 'value') {
      if (i >= n) return n;
      const c = text[i] as string;
      if (c === '{' || c === '[') {
        stack.push(c);
        i++;
        ws();
        if (text[i] === (c === '{' ? '}' : ']')) {
          stack.pop();
          i++;
          expect = 'after-value';
        } else {
          expect = c === '{' ? 'key' : 'value';
        }
        continue;
      }
      if (c === '"') {
        const end = scanString();
        if (end < 0) return -end - 1;
        i = end;
      } else if (c === '-' || (c >= '0' && c <= '9')) {
        NUMBER.lastIndex = i;
        if (!NUMBER.test(text)) return c === '-' ? i + 1 : i;
        i = NUMBER.lastIndex;
      } else {
        const word = c === 't' ? 'true' : c === 'f' ? 'false' : c === 'n' ? 'null' : undefined;
        if (!word) return i;
        for (let k = 0; k < word.length; k++) if (text[i + k] !== word[k]) return Math.min(i + k, n);
        i += word.length;
      }
      expect = 'after-value';
      continue;
    }
    if (expect === 'key') {
      if (i >= n) return n;
      if (text[i] !== '"') return i;
      const end = scanString();
      if (end < 0) return -end - 1;
      i = end;
      expect = 'after-key';
      continue;
    }
    if (expect === 'after-key') {
      if (i >= n) return n;
      if (text[i] !== ':') return i;
      i++;
      expect = 'value';
      continue;
    }
    // after-value
    const top = stack[stack.length - 1];
    if (top === undefined) return i >= n ? undefined : i;
    if (i >= n) return n;
    const c = text[i];
    if (c === ',') {
      i++;
      expect = top === '{' ? 'key' : 'value';
    } else if ((c === '}' && top === '{') || (c === ']' && top === '[')) {
      stack.pop();
      i++;
    } else {
      return i;
    }
  }
}

export interface TextPosition {
  /** 1-based line. */
  line: number;
  /** 1-based column, in characters. */
  column: number;
  /** 0-based byte offset in the UTF-8 text. */
  byte: number;
}

/** Line, column and byte offset of character offset `offset` in `text`. */
export function positionAt(text: string, offset: number): TextPosition {
  const at = Math.max(0, Math.min(offset, text.length));
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < at; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: at - lineStart + 1, byte: Buffer.byteLength(text.slice(0, at), 'utf8') };
}

/**
 * V8's message without the quoted copy of the input it sometimes appends (which can be megabytes, and
 * belongs in the file, not in a log line or a sidecar).
 */
export function jsonErrorMessage(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.replace(/, ".*" is not valid JSON$/s, '').replace(/ in JSON at position \d+.*$/s, '');
}
