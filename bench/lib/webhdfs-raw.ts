/**
 * Raw WebHDFS over node:http (no userpipe code): the two-step CREATE that is the archive's ceiling, and the
 * listing, reading and deleting the bench needs around it.
 */
import { expectStatus, request } from './http.ts';

export class RawWebHdfs {
  readonly base: string;
  readonly user: string;

  /** `nameNode` like http://127.0.0.1:9870 */
  constructor(nameNode: string, user: string) {
    this.base = nameNode.replace(/\/+$/, '');
    this.user = user;
  }

  url(path: string, op: string, params: Record<string, string> = {}): string {
    const q = new URLSearchParams({ op, 'user.name': this.user, ...params });
    return `${this.base}/webhdfs/v1${encodeURI(path)}?${q.toString()}`;
  }

  /**
   * CREATE (overwrite): PUT to the NameNode without a body, follow its 307 to the DataNode with the bytes.
   * Resolves when the DataNode answered 201, i.e. the pipeline acknowledged the data.
   */
  async create(path: string, data: Buffer): Promise<void> {
    const nn = await request(this.url(path, 'CREATE', { overwrite: 'true' }), { method: 'PUT' });
    const location = nn.headers.location;
    if (nn.status !== 307 || !location) throw new Error(`CREATE ${path}: NameNode answered ${nn.status} ${nn.body.toString('utf8', 0, 300)}`);
    const dn = await request(location, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream', 'content-length': data.length },
      body: data,
    });
    expectStatus(dn, [201], `CREATE ${path} (DataNode)`);
  }

  async open(path: string): Promise<Buffer> {
    const nn = await request(this.url(path, 'OPEN'));
    if (nn.status === 200) return nn.body;
    const location = nn.headers.location;
    if (nn.status !== 307 || !location) throw new Error(`OPEN ${path}: NameNode answered ${nn.status}`);
    return expectStatus(await request(location), [200], `OPEN ${path} (DataNode)`).body;
  }

  /** Every file under `dir`, recursively: path and length. Missing dir: []. */
  async listFiles(dir: string): Promise<Array<{ path: string; length: number }>> {
    const a = await request(this.url(dir, 'LISTSTATUS'));
    if (a.status === 404) return [];
    expectStatus(a, [200], `LISTSTATUS ${dir}`);
    const entries = (JSON.parse(a.body.toString()) as { FileStatuses: { FileStatus: Array<{ pathSuffix: string; type: string; length: number }> } })
      .FileStatuses.FileStatus;
    const out: Array<{ path: string; length: number }> = [];
    for (const e of entries) {
      const p = `${dir.replace(/\/+$/, '')}/${e.pathSuffix}`;
      if (e.type === 'DIRECTORY') out.push(...(await this.listFiles(p)));
      else out.push({ path: p, length: e.length });
    }
    return out.sort((x, y) => (x.path < y.path ? -1 : 1));
  }

  async deleteRecursive(path: string): Promise<void> {
    expectStatus(await request(this.url(path, 'DELETE', { recursive: 'true' }), { method: 'DELETE' }), [200], `DELETE ${path}`);
  }

  async version(): Promise<string> {
    const a = await request(`${this.base}/jmx?qry=Hadoop:service=NameNode,name=NameNodeInfo`);
    const bean = (JSON.parse(a.body.toString()) as { beans?: Array<{ SoftwareVersion?: string }> }).beans?.[0];
    return bean?.SoftwareVersion ?? 'unknown';
  }

  /** NameNode answers and at least one DataNode is live (a write would succeed). */
  async ready(): Promise<boolean> {
    try {
      const a = await request(`${this.base}/jmx?qry=Hadoop:service=NameNode,name=FSNamesystemState`, { timeoutMs: 5000 });
      const bean = (JSON.parse(a.body.toString()) as { beans?: Array<{ NumLiveDataNodes?: number }> }).beans?.[0];
      return (bean?.NumLiveDataNodes ?? 0) >= 1;
    } catch {
      return false;
    }
  }
}
