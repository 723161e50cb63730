import { ConfigError, PipelineError } from '../core/errors.ts';

/**
 * Pure URL building for WebHDFS: HDFS path validation and encoding, NameNode base URLs, query strings.
 * No I/O here, so every rule is unit-tested.
 */

/** Query parameter values WebHDFS understands; `undefined` values are left out. */
export type WebHdfsParams = Record<string, string | number | boolean | undefined>;

/**
 * Reject what HDFS itself would reject (DFSUtil.isValidName), before any request: a relative path, an empty
 * inner component (`a//b`), `.` or `..` components, `:` in a component, NUL. Throws INVALID_INPUT: the same path
 * will never become valid, so no retry can help.
 */
export function assertHdfsPath(path: string): void {
  const fail = (why: string): never => {
    throw new PipelineError('INVALID_INPUT', `invalid HDFS path ${JSON.stringify(path)}: ${why}`, {
      details: { path },
    });
  };
  if (typeof path !== 'string' || !path.startsWith('/')) fail('must be absolute');
  if (path.includes('\0')) fail('contains NUL');
  const parts = path.split('/');
  for (let i = 1; i < parts.length; i++) {
    const part = parts[i] as string;
    // A trailing slash ("/a/b/") is harmless; an empty inner component is not.
    if (part === '' && i !== parts.length - 1) fail('empty path component');
    if (part === '.' || part === '..') fail('"." and ".." components are not allowed');
    if (part.includes(':')) fail('":" is not allowed in a path component');
  }
}

/**
 * Encode an absolute HDFS path for the URL path: each component percent-encoded (space, `%`, `+`, `#`, `?`, `;`,
 * non-ASCII...), the `/` separators kept. `;` must be encoded or the NameNode truncates the path (HDFS-13176),
 * `+` must be encoded or it may come back as a space.
 */
export function encodeHdfsPath(path: string): string {
  assertHdfsPath(path);
  try {
    return path.split('/').map(encodeURIComponent).join('/');
  } catch (err) {
    // encodeURIComponent throws URIError on a lone UTF-16 surrogate.
    throw new PipelineError('INVALID_INPUT', `invalid HDFS path ${JSON.stringify(path)}: not valid Unicode`, {
      cause: err,
      details: { path },
    });
  }
}

/**
 * Normalise a NameNode base URL ("http://nn:9870", optionally behind a gateway path such as
 * "https://knox:8443/gateway/default"): http(s) only, no query or fragment, trailing slashes and a trailing
 * "/webhdfs/v1" removed. Returns the string to which "/webhdfs/v1<path>" is appended. Throws ConfigError.
 */
export function normalizeNameNodeUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`invalid WebHDFS NameNode URL ${JSON.stringify(raw)}`, { url: raw });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`WebHDFS NameNode URL must be http or https: ${JSON.stringify(raw)}`, { url: raw });
  }
  if (url.search !== '' || url.hash !== '') {
    throw new ConfigError(`WebHDFS NameNode URL must not have a query or fragment: ${JSON.stringify(raw)}`, {
      url: raw,
    });
  }
  if (url.username !== '' || url.password !== '') {
    throw new ConfigError('WebHDFS NameNode URL must not carry credentials', { url: url.host });
  }
  const pathname = url.pathname.replace(/\/+$/, '').replace(/\/webhdfs\/v1$/, '');
  return `${url.origin}${pathname}`;
}

/** "op=CREATE&user.name=hdfs&overwrite=true": values encoded with encodeURIComponent, so a literal `+` is %2B. */
export function buildQuery(params: WebHdfsParams): string {
  const out: string[] = [];
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined) continue;
    out.push(`${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`);
  }
  return out.join('&');
}

/** The full NameNode URL of one WebHDFS operation. `user.name` always comes right after `op`. */
export function buildWebHdfsUrl(
  baseUrl: string,
  path: string,
  op: string,
  user: string,
  params: WebHdfsParams = {},
): string {
  // Spread first for the order, then set again: a stray `op` or `user.name` in params cannot override them.
  const query: WebHdfsParams = { op, 'user.name': user, ...params };
  query.op = op;
  query['user.name'] = user;
  return `${baseUrl}/webhdfs/v1${encodeHdfsPath(path)}?${buildQuery(query)}`;
}

/**
 * Validate an octal permission ("755", "0644", "1777") as WebHDFS expects it: 1 to 4 octal digits, at most 1777.
 * Throws INVALID_INPUT.
 */
export function normalizePermission(permission: string | number): string {
  const text = typeof permission === 'number' ? permission.toString(8) : permission;
  if (!/^[0-7]{1,4}$/.test(text) || parseInt(text, 8) > 0o1777) {
    throw new PipelineError('INVALID_INPUT', `invalid HDFS permission ${JSON.stringify(permission)}`, {
      details: { permission },
    });
  }
  return text;
}

/**
 * A URL without its query string, for logs and error details: a DataNode `Location` may carry a delegation
 * token in its query string on secure clusters.
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '<invalid url>';
  }
}
