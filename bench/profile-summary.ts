/**
 * `node bench/profile-summary.ts <file.cpuprofile> [top]`: the top self-time functions and the time per area
 * of a V8 CPU profile (from `node --cpu-prof`), as Markdown.
 */
import { summarize, summaryMarkdown } from './lib/cpuprofile.ts';

const [file, top] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: node bench/profile-summary.ts <file.cpuprofile> [top]\n');
  process.exit(2);
}
process.stdout.write(summaryMarkdown(summarize(file), top ? Number(top) : 20) + '\n');
