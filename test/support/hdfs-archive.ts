/**
 * Reading back what the archive wrote to HDFS, for the tests and scenarios that check "each user exactly once".
 */
import type { WebHdfsClient } from '../../src/clients/webhdfs.ts';

/** Every file under `root`, recursively, except the archive's own state under `_userpipe/` (`.tmp` included). */
export async function archiveFiles(hdfs: WebHdfsClient, root: string): Promise<string[]> {
  const files: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const e of (await hdfs.listStatus(dir)) ?? []) {
      const path = `${dir}/${e.pathSuffix}`;
      if (e.type === 'DIRECTORY') {
        if (e.pathSuffix !== '_userpipe') await walk(path);
      } else files.push(path);
    }
  };
  await walk(root);
  return files;
}

/** The non-empty lines of `files`, in order. */
export async function archiveLines(hdfs: WebHdfsClient, files: readonly string[]): Promise<string[]> {
  const lines: string[] = [];
  for (const f of files) lines.push(...(await hdfs.open(f)).toString().split('\n').filter(Boolean));
  return lines;
}
