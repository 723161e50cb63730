/**
 * Minimal HTTP over node:http with keep-alive, for the ceilings and the bench's own bookkeeping. Deliberately
 * none of userpipe's clients: a ceiling must not inherit the overheads it is there to expose.
 */
import http from 'node:http';

export const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export function request(
  url: string | URL,
  init: { method?: string; headers?: http.OutgoingHttpHeaders; body?: Buffer | string; timeoutMs?: number } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: init.method ?? 'GET', headers: init.headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.setTimeout(init.timeoutMs ?? 120_000, () => req.destroy(new Error(`timeout: ${init.method ?? 'GET'} ${String(url)}`)));
    req.on('error', reject);
    req.end(init.body);
  });
}

/** Throw unless the status is one of `ok`. */
export function expectStatus(a: Answer, ok: number[], what: string): Answer {
  if (!ok.includes(a.status)) throw new Error(`${what}: HTTP ${a.status} ${a.body.toString('utf8', 0, 500)}`);
  return a;
}
