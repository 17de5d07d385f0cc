// The import boundaries fail closed: eslint (its Node API, with eslint.config.js) refuses each forbidden arrow and a
// folder DEPS does not list, and accepts the allowed ones; DEPS, the actual imports and ARCHITECTURE.md agree.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { test } from 'node:test';
import { ESLint } from 'eslint';
import { ROOT } from '../../support/processes.ts';

const { DEPS } = (await import(join(ROOT, 'eslint.config.js'))) as { DEPS: Record<string, string[]> };

// The project's own config; type-aware rules off, so the probes need not exist on disk (the boundary rule reads paths).
const eslint = new ESLint({
  cwd: ROOT,
  overrideConfig: [{
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: false } },
    rules: { '@typescript-eslint/no-floating-promises': 'off', '@typescript-eslint/no-misused-promises': 'off', '@typescript-eslint/await-thenable': 'off' },
  }],
});

async function problems(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, filePath) });
  assert.ok(result !== undefined);
  return result.messages.map((m) => `${m.ruleId ?? 'parser'}: ${m.message}`);
}

const importing = (spec: string): string => `import * as other from '${spec}';\nexport const used = other;\n`;

const forbidden: [string, string, string, RegExp][] = [
  ['center → site', 'src/center/probe.ts', '../site/site-plan.ts', /src\/center\/ may not import src\/site\//],
  ['center → dataplane', 'src/center/api/probe.ts', '../../dataplane/run.ts', /may not import src\/dataplane\//],
  ['center → agent', 'src/center/probe.ts', '../agent/retry.ts', /may not import src\/agent\//],
  ['lab → center', 'src/lab/probe.ts', '../center/center.ts', /src\/lab\/ may not import src\/center\//],
  ['lab → hub', 'src/lab/probe.ts', '../hub/hub-agent.ts', /may not import src\/hub\//],
  ['lab → site', 'src/lab/probe.ts', '../site/site-agent.ts', /may not import src\/site\//],
  ['agent → dataplane', 'src/agent/probe.ts', '../dataplane/types.ts', /src\/agent\/ may not import src\/dataplane\//],
  ['agent → center', 'src/agent/probe.ts', '../center/audit.ts', /may not import src\/center\//],
  ['hub → site', 'src/hub/probe.ts', '../site/site-plan.ts', /may not import src\/site\//],
  ['site → hub', 'src/site/probe.ts', '../hub/hub-agent.ts', /may not import src\/hub\//],
  ['site → store', 'src/site/probe.ts', '../store/schema.ts', /may not import src\/store\//],
  ['protocol → store', 'src/protocol/probe.ts', '../store/schema.ts', /may not import src\/store\//],
  ['dataplane → agent', 'src/dataplane/probe.ts', '../agent/key-file.ts', /may not import src\/agent\//],
  ['store → center', 'src/store/probe.ts', '../center/audit.ts', /may not import src\/center\//],
  ['bench → test/e2e', 'bench/probe.ts', '../test/e2e/support.ts', /bench\/ may not import test\/e2e\//],
  ['bench → test/unit', 'bench/probe.ts', '../test/unit/lab/plan.test.ts', /may not import test\/unit\/lab\//],
  ['src → test', 'src/cli/probe.ts', '../../test/support/processes.ts', /may not import test\/support\//],
  ['protocol → node:fs', 'src/protocol/probe.ts', 'node:fs', /src\/protocol\/ does no I\/O/],
  ['child_process outside run.ts', 'src/dataplane/probe.ts', 'node:child_process', /only src\/dataplane\/run.ts spawns programs/],
  ['child_process in the lab', 'src/lab/probe.ts', 'node:child_process', /only src\/dataplane\/run.ts spawns programs/],
];

for (const [name, file, spec, reason] of forbidden) {
  void test(`lint refuses ${name}`, async () => {
    const found = await problems(file, importing(spec));
    assert.ok(found.some((p) => p.startsWith('keyhole/deps: ') && reason.test(p)), found.join('\n') || 'no problem reported');
  });
}

void test('lint refuses any file in a folder DEPS does not list, even one importing nothing', async () => {
  for (const file of ['src/newpiece/thing.ts', 'src/center/newpart/thing.ts', 'test/unit/newpiece/thing.test.ts', 'bench/extra/thing.ts']) {
    const found = await problems(file, 'export const one = 1;\n');
    assert.ok(found.some((p) => p.includes(`${dirname(file)}/ has no entry in DEPS`)), `${file}: ${found.join('\n') || 'no problem reported'}`);
  }
});

void test('lint refuses process.exit outside src/cli, in the lab too', async () => {
  for (const file of ['src/lab/probe.ts', 'src/site/probe.ts', 'src/center/probe.ts']) {
    const found = await problems(file, 'export const stop = (): void => { process.exit(1); };\n');
    assert.ok(found.some((p) => p.includes('only src/cli may call process.exit')), `${file}: ${found.join('\n')}`);
  }
});

void test('lint accepts the allowed arrows', async () => {
  const allowed: [string, string][] = [
    ['src/center/probe.ts', '../protocol/errors.ts'],
    ['src/center/probe.ts', '../store/schema.ts'],
    ['src/agent/probe.ts', '../protocol/wg-keys.ts'],
    ['src/lab/probe.ts', '../dataplane/run.ts'],
    ['src/site/probe.ts', '../agent/retry.ts'],
    ['src/hub/probe.ts', '../dataplane/types.ts'],
    ['src/cli/probe.ts', '../center/center.ts'],
    ['bench/probe.ts', '../test/support/eventually.ts'],
    ['test/unit/site/probe.test.ts', '../../support/eventually.ts'],
    ['src/dataplane/run.ts', 'node:child_process'],
    ['src/protocol/probe.ts', 'node:crypto'],
  ];
  for (const [file, spec] of allowed) assert.deepEqual(await problems(file, importing(spec)), [], `${file} → ${spec}`);
  assert.deepEqual(await problems('src/cli/probe.ts', 'export const stop = (): void => { process.exit(1); };\n'), []);
});

/** The folder-to-folder arrows of src/ as they are in the code: "center → protocol". */
function actualArrows(): Set<string> {
  const arrows = new Set<string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) {
        for (const m of readFileSync(join(ROOT, path), 'utf8').matchAll(/(?:\bfrom\s+|\bimport\s*\(?\s*)'(\.[^']+)'/g)) {
          const target = relative(ROOT, dirname(normalize(join(ROOT, dir, m[1] as string))));
          if (target !== dir) arrows.add(`${dir.slice(4)} → ${target.startsWith('src/') ? target.slice(4) : target}`);
        }
      }
    }
  };
  walk('src');
  return arrows;
}

const sorted = (set: Iterable<string>): string[] => [...set].sort();

void test('DEPS allows in src/ exactly the arrows the code has: none missing, none stale', () => {
  const allowed = Object.entries(DEPS).filter(([folder]) => folder.startsWith('src/'))
    .flatMap(([folder, targets]) => targets.map((t) => `${folder.slice(4)} → ${t.slice(4)}`));
  assert.deepEqual(sorted(allowed), sorted(actualArrows()));
});

void test('ARCHITECTURE.md draws exactly the arrows of DEPS', () => {
  const doc = readFileSync(join(ROOT, 'ARCHITECTURE.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## Who may import whom'));
  const block = /```\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  const drawn = block.split('\n').filter((line) => line.includes('→')).flatMap((line) => {
    const [from, to] = line.split('→').map((s) => s.trim()) as [string, string];
    return to === '(nothing)' ? [] : to.split(/,\s*/).map((t) => `${from} → ${t}`);
  });
  const listed = block.split('\n').filter((line) => line.includes('→')).map((line) => `src/${line.split('→')[0]?.trim() ?? ''}`);
  assert.deepEqual(sorted(listed), sorted(Object.keys(DEPS).filter((f) => f.startsWith('src/'))), 'every src/ folder has its line');
  assert.deepEqual(sorted(drawn), sorted(actualArrows()));
});
