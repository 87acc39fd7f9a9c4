import fs from 'node:fs';
import path from 'node:path';
import { parse, parseDocument } from 'yaml';
import { generatedComponentSchemas } from './openapiComponents';
import { spec as routerSpec } from './openapi/generated/router';

const {
  openapiFingerprint,
  CLIENT_FINGERPRINT_FILE,
} = require('../../scripts/openapiFingerprint');

/**
 * openapi.yaml carries the experiment schemas derived from the zod model. This fails when
 * they drift; `yarn generate:openapi` (CHAOSCRAFT_UPDATE_GENERATED=1) rewrites them.
 */
const SPEC = path.resolve(__dirname, 'openapi.yaml');
const UPDATING = process.env.CHAOSCRAFT_UPDATE_GENERATED === '1';

describe('openapi.yaml', () => {
  it('holds the component schemas derived from the experiment model', () => {
    const doc = parseDocument(fs.readFileSync(SPEC, 'utf8'));
    const generated = generatedComponentSchemas();
    if (UPDATING) {
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

/**
 * The server router (this package) and the client (the common package) are generated from
 * openapi.yaml by `yarn generate:openapi`. These fail when either was not regenerated after the
 * spec changed. While `yarn generate:openapi` itself runs this file, the generation comes after,
 * so they are skipped then.
 */
const describeGenerated = UPDATING ? describe.skip : describe;
const CLIENT = path.join(
  path.dirname(
    require.resolve('@chaoscraft/backstage-plugin-chaos-common/package.json'),
  ),
  'src/schema/openapi/generated',
);

describeGenerated('the code generated from openapi.yaml', () => {
  const spec = parse(fs.readFileSync(SPEC, 'utf8'));

  it('the server router carries this very spec', () => {
    expect(routerSpec).toEqual(spec);
  });

  it('the client is stamped with the fingerprint of this spec', () => {
    const stamp = JSON.parse(
      fs.readFileSync(path.join(CLIENT, CLIENT_FINGERPRINT_FILE), 'utf8'),
    );
    expect(stamp.sha256).toBe(openapiFingerprint(SPEC));
  });

  it('the client has one method per operation, with its HTTP method, path and query', () => {
    const source = fs.readFileSync(
      path.join(CLIENT, 'apis/Api.client.ts'),
      'utf8',
    );
    const inClient = [
      ...source.matchAll(
        /public async (\w+)\([\s\S]*?const uriTemplate = `([^`]*)`[\s\S]*?method: '(\w+)'/g,
      ),
    ]
      .map(([, name, uri, method]) => ({ name, method, uri }))
      .sort((a, b) => a.name.localeCompare(b.name));

    const inSpec = Object.entries(
      spec.paths as Record<string, Record<string, any>>,
    )
      .flatMap(([route, item]) =>
        Object.entries(item)
          .filter(([method]) =>
            ['get', 'put', 'post', 'delete', 'patch'].includes(method),
          )
          .map(([method, operation]) => {
            const query = [
              ...(item.parameters ?? []),
              ...(operation.parameters ?? []),
            ]
              .map((p: { $ref?: string; name?: string; in?: string }) =>
                p.$ref
                  ? spec.components.parameters[p.$ref.split('/').pop()!]
                  : p,
              )
              .filter((p: { in: string }) => p.in === 'query')
              .map((p: { name: string }) => p.name);
            const opId: string = operation.operationId;
            return {
              name: opId[0].toLowerCase() + opId.slice(1),
              method: method.toUpperCase(),
              uri: query.length ? `${route}{?${query.join(',')}}` : route,
            };
          }),
      )
      .sort((a, b) => a.name.localeCompare(b.name));

    expect(inSpec.length).toBeGreaterThan(0);
    expect(inClient).toEqual(inSpec);
  });
});
