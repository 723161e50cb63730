/**
 * Imported first by main.ts, so it runs before any other module: on a Node older than userpipe needs, say so
 * and exit 1, instead of failing later with an obscure "X is not a function" (Node 20 lacks
 * Promise.withResolvers, among others). `engines` in package.json says the same; npm only warns about it.
 */
export const MIN_NODE: readonly [number, number] = [22, 18];

export function nodeTooOld(version: string): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major < MIN_NODE[0] || (major === MIN_NODE[0] && minor < MIN_NODE[1]);
}

if (nodeTooOld(process.versions.node)) {
  process.stderr.write(
    `userpipe: needs Node >= ${MIN_NODE.join('.')}, this is ${process.version} (${process.execPath}).\n` +
      'Install a newer Node, or run scripts/userpipe from a checkout: it fetches Node 24 from the npm registry.\n',
  );
  process.exit(1);
}
