import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { join } from 'node:path';
import request from 'supertest';
import ts from 'typescript';
import { SessionModule } from '../../lib';
import { HTTP_ADAPTERS } from '../support/http-adapters';
import { bootApp } from './fixtures/app';
import { testSecret } from './fixtures/secret';
import { TypedController } from './fixtures/typed-session';

const ROOT = join(__dirname, '..', '..');
const FIXTURE = join(__dirname, 'fixtures', 'typed-session.ts');
const FLASH_FIXTURE = join(__dirname, 'fixtures', 'typed-flash.ts');

/** Type-checks a fixture on its own (Jest only transpiles) with the repo's compiler options. */
function diagnostics(
  transform?: (text: string) => string,
  fixture: string = FIXTURE,
): ts.Diagnostic[] {
  const configPath = join(ROOT, 'tsconfig.json');
  const config = ts.readConfigFile(configPath, (p) => ts.sys.readFile(p));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT);
  const options = { ...parsed.options, noEmit: true, types: ['node'] };
  const host = ts.createCompilerHost(options);
  if (transform) {
    const readFile = host.readFile.bind(host);
    host.readFile = (file) => {
      const text = readFile(file);
      return text !== undefined && ts.sys.resolvePath(file) === fixture ? transform(text) : text;
    };
  }
  const program = ts.createProgram({ rootNames: [fixture], options, host });
  return [...ts.getPreEmitDiagnostics(program)];
}

/** `TS<code> <source line>` of each diagnostic (independent of line numbers). */
function describeAll(list: ts.Diagnostic[]): string[] {
  return list.map((d) => {
    if (!d.file) return `TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
    const { line } = d.file.getLineAndCharacterOfPosition(d.start ?? 0);
    const text = d.file.text.split('\n')[line]?.trim();
    return `TS${d.code} ${text}`;
  });
}

describe('@Session() typing from the SessionData augmentation', () => {
  it('compiles: augmented keys accepted, unknown keys and wrong types rejected', () => {
    // An unused @ts-expect-error (a key that wrongly compiles) would be TS2578 here.
    expect(describeAll(diagnostics())).toEqual([]);
  });

  it('reports each rejected line when the @ts-expect-error comments are removed', () => {
    const found = describeAll(
      diagnostics((text) => text.replace(/\/\/ @ts-expect-error.*$/gm, '// (expected error)')),
    );
    expect(found.sort()).toEqual(
      [
        // SessionValue<'userId'> is string | undefined, not number | undefined
        "TS2322 export const notANumber: Equals<SessionValue<'userId'>, number | undefined> = true;",
        "TS2344 export type NotAKey = SessionValue<'notAKey'>;",
        "TS2322 session.visits = 'many';",
        'TS2322 const sure: string = userId;',
        "TS2345 @Session('notAKey') value: unknown,",
        "TS2345 @RequireSession('notAKey')",
      ].sort(),
    );
  });

  // The compile-time checks above do not depend on the adapter; the runtime ones run on both.
  describe.each(HTTP_ADAPTERS)('at runtime on %s', (adapter) => {
    let app: INestApplication;
    beforeAll(async () => {
      app = await bootApp(
        {
          imports: [SessionModule.forRoot({ secret: testSecret() })],
          controllers: [TypedController],
        },
        adapter,
      );
    });
    afterAll(() => app.close());

    it('@Session("userId") injects the typed value', async () => {
      const agent = request.agent(app.getHttpServer());
      expect((await agent.get('/typed/me')).status).toBe(401);
      await agent.post('/typed/login').expect(201);
      expect((await agent.get('/typed/me')).body).toEqual({
        id: 'typed-user',
        upper: 'TYPED-USER',
        sure: 'typed-user',
      });
      expect((await agent.get('/typed/unknown')).body).toEqual({ value: null });
    });
  });
});

describe('@Flash() typing from the FlashMessages augmentation', () => {
  const removeExpectations = (text: string) =>
    text.replace(/\/\/ @ts-expect-error.*$/gm, '// (expected error)');

  it('compiles: augmented and built-in types accepted, unknown types and wrong messages rejected', () => {
    expect(describeAll(diagnostics(undefined, FLASH_FIXTURE))).toEqual([]);
  });

  it('reports each rejected line when the @ts-expect-error comments are removed', () => {
    const found = describeAll(diagnostics(removeExpectations, FLASH_FIXTURE));
    // Each line fails once (the TS code varies with the overload TypeScript reports on).
    expect(found.map((line) => line.slice(line.indexOf(' ') + 1)).sort()).toEqual(
      [
        "flash.add('nope', 'x');",
        "flash.add('formError', 'taken');",
        "flash.add('formError', { field: 'a', text: 'b' }, 1);",
        "const wrong: number[] = flash.take('error');",
        "bad(@Flash('nope') value: unknown) {",
      ].sort(),
    );
  });
});
