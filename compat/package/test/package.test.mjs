/**
 * nest-session as users install it: the `npm pack` tarball (NEST_SESSION_TARBALL), installed in
 * this clean folder by compat/run.mjs next to Nest 11. Its file list, its exports from CommonJS
 * and from ESM, its types under moduleResolution node16, nodenext and bundler, and the verdicts of
 * two checkers made for this (@arethetypeswrong/cli, publint).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const here = dirname(dirname(fileURLToPath(import.meta.url)));
const require = createRequire(import.meta.url);
const tarball = process.env.NEST_SESSION_TARBALL;
if (!tarball) throw new Error('NEST_SESSION_TARBALL is not set: run `npm run test:package`');
const bin = (name) => join(here, 'node_modules', '.bin', name);

/** Runs a CLI of this folder; returns its output, failing the test with it on a non-zero exit. */
function cli(name, args) {
  const run = spawnSync(bin(name), args, { cwd: here, encoding: 'utf8' });
  const output = `${run.stdout}${run.stderr}`;
  assert.equal(run.status, 0, `${name} ${args.join(' ')} exited ${run.status}:\n${output}`);
  return output;
}

describe('the tarball', () => {
  const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .map((f) => f.replace(/^package\//, ''));
  const manifest = require('nest-session/package.json');

  it('holds dist/ (JS, declarations, maps), package.json and the README only', () => {
    const unexpected = files.filter(
      (f) => !/^(package\.json|README\.md|LICENSE)$|^dist\/.+\.(js|d\.ts)(\.map)?$/.test(f),
    );
    assert.deepEqual(unexpected, []);
    const devOnly = files.filter((f) =>
      /(^|\/)(test|tests|sample|bench|compat|lib|\.ci)\/|\.spec\.|\.e2e-spec\.|tsconfig|\.tsbuildinfo$/.test(
        f,
      ),
    );
    assert.deepEqual(devOnly, []);
    assert.ok(files.includes('README.md'));
  });

  it('holds every file package.json points at', () => {
    const targets = [manifest.main, manifest.types];
    for (const entry of Object.values(manifest.exports)) {
      if (typeof entry === 'string') continue;
      targets.push(...Object.values(entry));
    }
    for (const paths of Object.values(manifest.typesVersions?.['*'] ?? {})) targets.push(...paths);
    const missing = targets.map((t) => t.replace(/^\.\//, '')).filter((t) => !files.includes(t));
    assert.deepEqual(missing, []);
  });

  it('ships no devDependency, script or lifecycle hook a user would run', () => {
    assert.equal(manifest.private, undefined);
    assert.equal(manifest.scripts?.install, undefined);
    assert.equal(manifest.scripts?.postinstall, undefined);
    assert.deepEqual(Object.keys(manifest.dependencies), ['cookie', 'depd']);
  });
});

describe('require (CommonJS)', () => {
  it("loads 'nest-session': the Nest module, the stores, the decorators", () => {
    const api = require('nest-session');
    for (const name of ['SessionModule', 'SessionStore', 'MemoryStore', 'RedisStore', 'Session']) {
      assert.equal(typeof api[name], 'function', name);
    }
    assert.equal(typeof api.RequireSession, 'function');
  });

  it("loads 'nest-session/express': express-session's factory shape", () => {
    const session = require('nest-session/express');
    assert.equal(typeof session, 'function');
    for (const name of ['Store', 'MemoryStore', 'Session', 'Cookie']) {
      assert.equal(typeof session[name], 'function', name);
    }
  });

  it("exports 'nest-session/terminus', which alone needs @nestjs/terminus (not installed here)", () => {
    assert.match(require.resolve('nest-session/terminus'), /[\\/]dist[\\/]terminus[\\/]index\.js$/);
    assert.throws(
      () => require('nest-session/terminus'),
      (err) => err.code === 'MODULE_NOT_FOUND' && /'@nestjs\/terminus'/.test(err.message),
    );
  });

  it('exposes nothing beyond the exports map', () => {
    assert.throws(() => require('nest-session/dist/index.js'), {
      code: 'ERR_PACKAGE_PATH_NOT_EXPORTED',
    });
    assert.throws(() => require('nest-session/dist/stores/memory-store'), {
      code: 'ERR_PACKAGE_PATH_NOT_EXPORTED',
    });
  });
});

describe('import (ESM)', () => {
  it("'nest-session': every CommonJS export is a named ESM export", async () => {
    const esm = await import('nest-session');
    const cjs = require('nest-session');
    // `default` is module.exports; `module.exports` is the same under its own name on Node 23+.
    const named = Object.keys(esm).filter(
      (k) => !['default', 'module.exports', '__esModule'].includes(k),
    );
    assert.deepEqual(named.sort(), Object.keys(cjs).sort());
    assert.equal(esm.SessionModule, cjs.SessionModule);
    assert.equal(esm.default, cjs);
  });

  it("'nest-session/express': default import and named Store, MemoryStore, Session, Cookie", async () => {
    const esm = await import('nest-session/express');
    const session = require('nest-session/express');
    assert.equal(esm.default, session);
    for (const name of ['Store', 'MemoryStore', 'Session', 'Cookie']) {
      assert.equal(esm[name], session[name], name);
    }
  });
});

describe('types (tsc, skipLibCheck off)', () => {
  for (const mode of ['node16', 'nodenext', 'bundler']) {
    it(`compile with moduleResolution ${mode}`, () => {
      cli('tsc', ['-p', join('types', `tsconfig.${mode}.json`)]);
    });
  }
});

describe('checkers', () => {
  it('@arethetypeswrong/cli finds no problem (node10, node16 CJS/ESM, bundler)', () => {
    const output = cli('attw', [tarball, '--format', 'table-flipped', '--no-color', '--no-emoji']);
    assert.match(output, /No problems found/);
  });

  it('publint has nothing to say, not even a suggestion', () => {
    const output = cli('publint', ['run', tarball, '--strict']);
    assert.match(output, /All good!/);
  });
});
