import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { OpenApiDocument, renderApiDoc } from './apiDoc';

/**
 * docs/API.md is generated from openapi.yaml. This fails when it is stale;
 * CHAOSCRAFT_UPDATE_GENERATED=1 (make generate) rewrites it.
 */
const SPEC = path.resolve(__dirname, 'openapi.yaml');
const DOC = path.resolve(__dirname, '../../../../docs/API.md');
const SOURCE = 'plugins/chaos-backend/src/schema/openapi.yaml';

describe('docs/API.md', () => {
  const spec = parse(fs.readFileSync(SPEC, 'utf8')) as OpenApiDocument;
  const rendered = renderApiDoc(spec, SOURCE);

  it('is the rendering of openapi.yaml', () => {
    if (process.env.CHAOSCRAFT_UPDATE_GENERATED === '1')
      fs.writeFileSync(DOC, rendered);
    const stale = fs.readFileSync(DOC, 'utf8') !== rendered;
    expect(
      stale
        ? 'docs/API.md is stale: run `make generate`'
        : 'docs/API.md is current',
    ).toBe('docs/API.md is current');
  });

  it('documents every operation, its responses, and every schema', () => {
    for (const [route, item] of Object.entries(spec.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        if (method === 'parameters') continue;
        const op = operation as {
          operationId: string;
          responses: Record<string, unknown>;
        };
        expect(rendered).toContain(
          `### ${method.toUpperCase()} ${route}\n\n\`${op.operationId}\``,
        );
        const section = rendered
          .slice(rendered.indexOf(`### ${method.toUpperCase()} ${route}\n`))
          .split('\n### ')[0];
        for (const status of Object.keys(op.responses))
          expect(section).toMatch(new RegExp(`\\n\\| ${status} \\|`));
      }
    }
    for (const name of Object.keys(spec.components.schemas))
      expect(rendered).toContain(`\n### ${name}\n`);
  });

  it('flattens nested fields and the fault union into tables', () => {
    expect(rendered).toContain(
      '| `target.selection.mode` | string | no | `one` | one of `one`, `fixed`, `percent` |',
    );
    expect(rendered).toContain(
      '| `createdAt` | string | yes |  | ISO 8601 UTC timestamp, e.g. `2026-01-31T09:30:00Z` |',
    );
    expect(rendered).toContain('`faults[]` with `type: network-latency`:');
    expect(rendered).toContain(
      '| `faults[].latencyMs` | integer | yes |  | 1..60000 |',
    );
  });
});
