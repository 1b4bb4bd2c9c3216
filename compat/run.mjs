#!/usr/bin/env node
/**
 * Runs suites against nest-session as users install it: `npm pack` (its `prepack` builds dist/),
 * then, for each suite folder under compat/, a copy in a clean temporary folder (outside the
 * repo, so nothing resolves to the repo's own node_modules) where `npm ci` installs the suite's
 * pinned dependencies and `npm install --no-save <tarball>` adds the packed library; then the
 * suite's `test` script (which builds it first when it has TypeScript to compile).
 *
 *   node compat/run.mjs nest12 package     # what `npm run test:compat` / `test:package` run
 *   KEEP_COMPAT=1 node compat/run.mjs ...  # keep the temporary folders (their path is printed)
 *
 * The suites run on the `node` this script runs on: put another Node first on PATH to try it, or
 * set COMPAT_NODES to a `:`-separated list of Node `bin` folders to run each installed suite on
 * every one of them in turn (one pack, one install; .ci/run does this for its extra Nodes).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const compatDir = dirname(fileURLToPath(import.meta.url));
const root = resolve(compatDir, '..');
const suites = process.argv.slice(2);
if (suites.length === 0) {
  console.error('usage: node compat/run.mjs <suite...>   (suites: folders of compat/)');
  process.exit(2);
}

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const quiet = ['--no-audit', '--no-fund', '--loglevel=error'];
function run(cmd, args, cwd, env = {}) {
  console.log(`\n$ (${cwd}) ${cmd} ${args.join(' ')}`);
  execFileSync(cmd, args, { cwd, stdio: 'inherit', env: { ...process.env, ...env } });
}

const work = mkdtempSync(join(tmpdir(), 'nest-session-compat-'));
let failed = false;
try {
  console.log(`node ${process.version}, working in ${work}`);
  run(npm, ['pack', '--pack-destination', work, ...quiet], root);
  const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
  if (!tarball) throw new Error(`npm pack wrote no tarball into ${work}`);
  const tarballPath = join(work, tarball);

  for (const suite of suites) {
    const source = join(compatDir, suite);
    const app = join(work, suite);
    cpSync(source, app, {
      recursive: true,
      filter: (path) => !/[\\/](node_modules|dist)([\\/]|$)/.test(path.slice(source.length)),
    });
    run(npm, ['ci', ...quiet], app);
    run(npm, ['install', '--no-save', ...quiet, tarballPath], app);
    // NEST_SESSION_TARBALL: for suites that inspect the tarball itself (its file list, attw).
    const nodes = (process.env.COMPAT_NODES ?? '').split(delimiter).filter(Boolean);
    if (nodes.length === 0) run(npm, ['test'], app, { NEST_SESSION_TARBALL: tarballPath });
    else {
      // Several Nodes: build once (the output does not depend on the Node), then `test:run`.
      const { scripts = {} } = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8'));
      if (scripts.build) run(npm, ['run', 'build'], app);
      const test = scripts['test:run'] ? ['run', 'test:run'] : ['test'];
      for (const bin of nodes) {
        const version = execFileSync(join(bin, 'node'), ['--version'], { encoding: 'utf8' }).trim();
        console.log(`\n--- ${suite} on node ${version}`);
        run(npm, test, app, {
          NEST_SESSION_TARBALL: tarballPath,
          PATH: `${bin}${delimiter}${process.env.PATH}`,
        });
      }
    }
  }
} catch (err) {
  failed = true;
  console.error(`\ncompat: ${err instanceof Error ? err.message : String(err)}`);
} finally {
  if (process.env.KEEP_COMPAT) console.log(`\nkept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
