/**
 * Package hygiene: every bare import in lib/ is a declared dependency or peer, and the public
 * entry points exist where package.json's `exports` say.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] as string);
}

describe('package manifest', () => {
  const declared = new Set([
    ...Object.keys(manifest.dependencies ?? {}),
    ...Object.keys(manifest.peerDependencies ?? {}),
  ]);

  it('declares every package lib/ imports', () => {
    const undeclared: string[] = [];
    for (const file of sources(join(root, 'lib'))) {
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(/(?:from|import)\s+'([^'.][^']*)'/g)) {
        const specifier = match[1] as string;
        if (specifier.startsWith('node:') || builtinModules.includes(specifier)) continue;
        if (!declared.has(packageOf(specifier))) undeclared.push(`${file}: ${specifier}`);
      }
    }
    expect(undeclared).toEqual([]);
  });

  it('never imports ioredis or express at runtime from lib/ (optional peers stay optional)', () => {
    const offenders = sources(join(root, 'lib')).filter((file) =>
      /from '(ioredis|express)'|require\('(ioredis|express)'\)/.test(readFileSync(file, 'utf8')),
    );
    expect(offenders).toEqual([]);
  });

  it('imports fastify and @nestjs/platform-fastify only in lib/fastify/ (loaded on Fastify only)', () => {
    const offenders = sources(join(root, 'lib')).filter(
      (file) =>
        !file.includes(`${join('lib', 'fastify')}/`) &&
        /from '(fastify|@nestjs\/platform-fastify)'|require\('(fastify|@nestjs\/platform-fastify)'\)/.test(
          readFileSync(file, 'utf8'),
        ),
    );
    expect(offenders).toEqual([]);
    expect(manifest.peerDependenciesMeta['@nestjs/platform-fastify'].optional).toBe(true);
    expect(manifest.peerDependenciesMeta.fastify.optional).toBe(true);
  });

  it('imports @nestjs/terminus only in lib/terminus/ (the nest-session/terminus entry point)', () => {
    const offenders = sources(join(root, 'lib')).filter(
      (file) =>
        !file.includes(`${join('lib', 'terminus')}/`) &&
        /from '@nestjs\/terminus'|require\('@nestjs\/terminus'\)/.test(readFileSync(file, 'utf8')),
    );
    expect(offenders).toEqual([]);
    expect(manifest.peerDependenciesMeta['@nestjs/terminus'].optional).toBe(true);
    expect(manifest.exports['./terminus'].default).toBe('./dist/terminus/index.js');
    expect(manifest.typesVersions['*'].terminus).toEqual(['./dist/terminus/index.d.ts']);
  });

  it('pins every dependency exactly', () => {
    const all = { ...manifest.dependencies, ...manifest.devDependencies } as Record<string, string>;
    const loose = Object.entries(all).filter(([, version]) => !/^\d+\.\d+\.\d+$/.test(version));
    expect(loose).toEqual([]);
  });

  it('exports the Nest API and the express drop-in', () => {
    expect(manifest.exports['.'].default).toBe('./dist/index.js');
    expect(manifest.exports['./express'].default).toBe('./dist/express.js');
    expect(manifest.files).toEqual(['dist']);
    expect(manifest.peerDependenciesMeta.ioredis.optional).toBe(true);
  });
});
