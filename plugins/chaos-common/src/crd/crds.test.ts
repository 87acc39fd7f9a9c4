import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { chaosCustomResourceDefinitions } from './crds';

/**
 * The CRDs in the Helm chart are generated from the model. This test fails when they drift;
 * `yarn generate:crds` (which sets CHAOSCRAFT_UPDATE_GENERATED=1) rewrites them.
 */
const CRD_DIR = path.resolve(
  __dirname,
  '../../../../charts/chaoscraft-agent/crds',
);
const HEADER =
  '# Generated from plugins/chaos-common (the experiment model). Do not edit: run `yarn generate:crds`.\n';

describe('generated CRDs', () => {
  it.each(
    chaosCustomResourceDefinitions().map(c => [c.metadata.name, c] as const),
  )('%s matches the checked-in YAML', (name, crd) => {
    const file = path.join(CRD_DIR, `${name}.yaml`);
    const expected = HEADER + stringify(crd, { lineWidth: 0 });
    if (process.env.CHAOSCRAFT_UPDATE_GENERATED === '1') {
      fs.mkdirSync(CRD_DIR, { recursive: true });
      fs.writeFileSync(file, expected);
    }
    expect(fs.readFileSync(file, 'utf8')).toBe(expected);
  });
});
