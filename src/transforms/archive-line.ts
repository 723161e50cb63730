import type { LogRecord } from '../clients/message-log.ts';

/**
 * What one archived line holds: the message value as compact JSON. A value that is not UTF-8 or not JSON
 * is kept too (nothing consumed is ever dropped), as a `_rejected` line carrying the reason and the raw bytes
 * in base64. Pure.
 */
const utf8 = new TextDecoder('utf-8', { fatal: true });

export function archiveLine(record: LogRecord): { line: string; rejected: boolean } {
  const raw = record.value ?? Buffer.alloc(0);
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    return { line: rejectedLine(record, 'value is not valid UTF-8'), rejected: true };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return { line: rejectedLine(record, `value is not JSON: ${(err as Error).message}`), rejected: true };
  }
  // Compact JSON already: keep the producer's bytes. Pretty-printed JSON would break the one-line rule.
  return { line: text.includes('\n') || text.includes('\r') ? JSON.stringify(parsed) : text, rejected: false };
}

function rejectedLine(record: LogRecord, reason: string): string {
  return JSON.stringify({
    reason,
    topic: record.topic,
    partition: record.partition,
    offset: String(record.offset),
    timestampMs: record.timestampMs,
    key: record.key?.toString('base64') ?? null,
    headers: record.headers,
    valueBase64: (record.value ?? Buffer.alloc(0)).toString('base64'),
  });
}
