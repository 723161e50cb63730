/**
 * Typed WebHDFS answers and their validating parsers. A parser returns undefined on a shape it does not know;
 * the client turns that into a BAD_RESPONSE (a proxy's HTML page, a truncated body).
 */

export type WebHdfsFileType = 'FILE' | 'DIRECTORY' | 'SYMLINK';

/** One entry of GETFILESTATUS / LISTSTATUS (Hadoop's HdfsFileStatus as JSON). Times are epoch milliseconds. */
export interface WebHdfsFileStatus {
  type: WebHdfsFileType;
  /** The entry's name within a LISTSTATUS answer; "" for GETFILESTATUS (and for LISTSTATUS of a file). */
  pathSuffix: string;
  /** Bytes; 0 for directories. A file still being written reports the length of its completed blocks only. */
  length: number;
  owner: string;
  group: string;
  /** Octal string, e.g. "755". */
  permission: string;
  modificationTime: number;
  accessTime: number;
  blockSize: number;
  replication: number;
  /** Number of children of a directory (0 for files); absent on old servers. */
  childrenNum?: number;
  /** HDFS inode id; absent on old servers. */
  fileId?: number;
  /** Target of a symlink. */
  symlink?: string;
}

const FILE_TYPES: ReadonlySet<string> = new Set(['FILE', 'DIRECTORY', 'SYMLINK']);

export function parseFileStatusObject(raw: unknown): WebHdfsFileStatus | undefined {
  if (raw === null || typeof raw !== 'object') return undefined;
  const r = raw as Record<string, unknown>;
  const str = (k: string): string | undefined => (typeof r[k] === 'string' ? (r[k] as string) : undefined);
  const num = (k: string): number | undefined => (typeof r[k] === 'number' ? (r[k] as number) : undefined);
  const type = str('type');
  if (type === undefined || !FILE_TYPES.has(type)) return undefined;
  const length = num('length');
  const modificationTime = num('modificationTime');
  if (length === undefined || modificationTime === undefined) return undefined;
  const status: WebHdfsFileStatus = {
    type: type as WebHdfsFileType,
    pathSuffix: str('pathSuffix') ?? '',
    length,
    owner: str('owner') ?? '',
    group: str('group') ?? '',
    permission: str('permission') ?? '',
    modificationTime,
    accessTime: num('accessTime') ?? 0,
    blockSize: num('blockSize') ?? 0,
    replication: num('replication') ?? 0,
  };
  const childrenNum = num('childrenNum');
  if (childrenNum !== undefined) status.childrenNum = childrenNum;
  const fileId = num('fileId');
  if (fileId !== undefined) status.fileId = fileId;
  const symlink = str('symlink');
  if (symlink !== undefined) status.symlink = symlink;
  return status;
}

/** `{"FileStatus": {...}}` */
export function parseGetFileStatus(json: unknown): WebHdfsFileStatus | undefined {
  return parseFileStatusObject((json as { FileStatus?: unknown } | null)?.FileStatus);
}

/** `{"FileStatuses": {"FileStatus": [...]}}` */
export function parseListStatus(json: unknown): WebHdfsFileStatus[] | undefined {
  const list = (json as { FileStatuses?: { FileStatus?: unknown } } | null)?.FileStatuses?.FileStatus;
  if (!Array.isArray(list)) return undefined;
  const out: WebHdfsFileStatus[] = [];
  for (const item of list) {
    const status = parseFileStatusObject(item);
    if (status === undefined) return undefined;
    out.push(status);
  }
  return out;
}

/** `{"boolean": true}` (MKDIRS, RENAME, DELETE). */
export function parseBooleanAnswer(json: unknown): boolean | undefined {
  const value = (json as { boolean?: unknown } | null)?.boolean;
  return typeof value === 'boolean' ? value : undefined;
}

/** JSON.parse that returns undefined instead of throwing. */
export function parseJson(body: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch {
    return undefined;
  }
}
