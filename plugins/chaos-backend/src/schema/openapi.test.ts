import fs from 'node:fs';
import path from 'node:path';
import express from 'express';
import request from 'supertest';
import { parse, parseDocument } from 'yaml';
import { generatedComponentSchemas } from './openapiComponents';
import {
  createOpenApiRouter,
  spec as routerSpec,
} from './openapi/generated/router';

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

/**
 * The generated router validates every request with express-openapi-validator, whose route lookup
 * compiled each route's path-to-regexp matcher again on every request until the Yarn patch in
 * .yarn/patches (see docs/DEVELOPMENT.md). This fails if the patch stops applying, for instance
 * when Backstage asks for another range of the validator: renew or drop the patch then.
 */
describe('the validated router', () => {
  it('compiles each route matcher once, not on every request', async () => {
    // The path-to-regexp the validator itself loads, found from where Backstage's router finds
    // the validator.
    const from = (module: string, dir: string) =>
      require.resolve(module, { paths: [dir] });
    const validator = from(
      'express-openapi-validator',
      path.dirname(
        require.resolve('@backstage/backend-openapi-utils/package.json'),
      ),
    );
    const pathToRegexp = require(from(
      'path-to-regexp',
      path.dirname(validator),
    ));
    const compile = jest.spyOn(pathToRegexp, 'pathToRegexp');
    try {
      const router = await createOpenApiRouter();
      const ids: string[] = [];
      router.get('/runs/:id', (req, res) => {
        ids.push(req.params.id);
        res.status(204).end();
      });
      const app = express().use(router);

      await request(app).get('/runs/run-0').expect(204);
      const compiledByFirst = compile.mock.calls.length;
      expect(compiledByFirst).toBeGreaterThan(0);

      for (let i = 1; i <= 10; i++)
        await request(app).get(`/runs/run-${i}`).expect(204);
      expect(ids).toEqual(Array.from({ length: 11 }, (_, i) => `run-${i}`));
      expect(compile.mock.calls.length).toBe(compiledByFirst);
    } finally {
      compile.mockRestore();
    }
  });
});
