import fs from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { generatedComponentSchemas } from './openapiComponents';

/**
 * openapi.yaml carries the experiment schemas derived from the zod model. This fails when
 * they drift; `yarn generate:openapi` (CHAOSCRAFT_UPDATE_GENERATED=1) rewrites them.
 */
const SPEC = path.resolve(__dirname, 'openapi.yaml');

describe('openapi.yaml', () => {
  it('holds the component schemas derived from the experiment model', () => {
    const doc = parseDocument(fs.readFileSync(SPEC, 'utf8'));
    const generated = generatedComponentSchemas();
    if (process.env.CHAOSCRAFT_UPDATE_GENERATED === '1') {
      for (const [name, schema] of Object.entries(generated)) {
        doc.setIn(['components', 'schemas', name], doc.createNode(schema));
      }
      fs.writeFileSync(SPEC, doc.toString({ lineWidth: 0 }));
    }
    const schemas = doc.toJS().components.schemas;
    for (const [name, schema] of Object.entries(generated)) {
      expect({ name, schema: schemas[name] }).toEqual({ name, schema });
    }
  });
});
