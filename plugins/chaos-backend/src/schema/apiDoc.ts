/**
 * Renders docs/API.md from openapi.yaml: every operation with its parameters, body and answers,
 * and every component schema as a table of fields (nested objects as dotted paths, the fault
 * union as one table per `type`). Hand-written rather than widdershins or redocly: those render
 * whole HTML-flavoured sites, pull in large dependency trees, and do not flatten zod's deep
 * schemas into tables a reader can scan; this is one small pure function, drift-tested by
 * apiDoc.test.ts.
 */

type Schema = {
  $ref?: string;
  type?: string;
  format?: string;
  description?: string;
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  additionalProperties?: boolean | Schema;
  oneOf?: Schema[];
  anyOf?: Schema[];
  allOf?: Schema[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number | boolean;
  exclusiveMaximum?: number | boolean;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  pattern?: string;
  nullable?: boolean;
};

type Parameter = {
  $ref?: string;
  name: string;
  in: string;
  required?: boolean;
  description?: string;
  schema?: Schema;
};
type Response = {
  $ref?: string;
  description?: string;
  content?: Record<string, { schema?: Schema }>;
};
type Operation = {
  operationId: string;
  summary?: string;
  description?: string;
  parameters?: Parameter[];
  requestBody?: {
    required?: boolean;
    content?: Record<string, { schema?: Schema }>;
  };
  responses: Record<string, Response>;
};
type PathItem = { parameters?: Parameter[] } & Partial<
  Record<(typeof METHODS)[number], Operation>
>;

export type OpenApiDocument = {
  info: { title: string; version: string; description?: string };
  paths: Record<string, PathItem>;
  components: {
    parameters?: Record<string, Parameter>;
    responses?: Record<string, Response>;
    schemas: Record<string, Schema>;
  };
};

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

const refName = (ref: string): string => ref.split('/').pop()!;
const anchor = (name: string): string =>
  name
    .toLowerCase()
    .replace(/[^a-z0-9 -]/g, '')
    .replace(/ /g, '-');
const schemaLink = (name: string): string => `[${name}](#${anchor(name)})`;
/** Markdown table cells: pipes escaped, newlines folded. */
const cell = (text: string): string =>
  text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
const code = (value: unknown): string =>
  `\`${typeof value === 'string' ? value : JSON.stringify(value)}\``;

function resolve<T extends { $ref?: string }>(
  doc: OpenApiDocument,
  value: T,
  section: 'parameters' | 'responses',
): T {
  return value.$ref
    ? (doc.components[section]![refName(value.$ref)] as unknown as T)
    : value;
}

/** The type as a reader wants it: `string`, `integer`, `Experiment[]`, `map of string`, ... */
function typeOf(schema: Schema): string {
  if (schema.$ref) return schemaLink(refName(schema.$ref));
  if (schema.allOf) return schema.allOf.map(typeOf).join(' and ');
  if (schema.oneOf ?? schema.anyOf)
    return `one of ${(schema.oneOf ?? schema.anyOf)!.map(typeOf).join(', ')}`;
  if (schema.type === 'array')
    return `${schema.items ? typeOf(schema.items) : 'any'}[]`;
  if (
    schema.type === 'object' &&
    schema.additionalProperties &&
    typeof schema.additionalProperties === 'object' &&
    !schema.properties
  ) {
    return `map of ${typeOf(schema.additionalProperties)}`;
  }
  const base = schema.type ?? 'any';
  return schema.format ? `${base} (${schema.format})` : base;
}

/** zod's z.iso.datetime() pattern: a calendar-exact date regex that no reader wants to decode. */
function isIsoDateTime(pattern: string): boolean {
  return (
    pattern.includes('-02-29') &&
    pattern.includes(')T(?:') &&
    pattern.endsWith('(?:Z))$')
  );
}

function constraints(schema: Schema): string {
  const parts: string[] = [];
  if (schema.enum) parts.push(`one of ${schema.enum.map(code).join(', ')}`);
  if (schema.const !== undefined) parts.push(`always ${code(schema.const)}`);
  const range = (min?: number, max?: number, unit = ''): void => {
    const hasMax = max !== undefined && max < MAX_SAFE;
    if (min !== undefined && hasMax) parts.push(`${min}..${max}${unit}`);
    else if (min !== undefined) parts.push(`≥ ${min}${unit}`);
    else if (hasMax) parts.push(`≤ ${max}${unit}`);
  };
  range(schema.minimum, schema.maximum);
  if (typeof schema.exclusiveMinimum === 'number')
    parts.push(`> ${schema.exclusiveMinimum}`);
  if (typeof schema.exclusiveMaximum === 'number')
    parts.push(`< ${schema.exclusiveMaximum}`);
  range(schema.minLength, schema.maxLength, ' characters');
  range(schema.minItems, schema.maxItems, ' items');
  if (schema.minProperties)
    parts.push(
      `at least ${schema.minProperties} entr${
        schema.minProperties === 1 ? 'y' : 'ies'
      }`,
    );
  if (schema.pattern && isIsoDateTime(schema.pattern))
    parts.push('ISO 8601 UTC timestamp, e.g. `2026-01-31T09:30:00Z`');
  else if (schema.pattern) parts.push(`matches ${code(schema.pattern)}`);
  if (
    schema.additionalProperties &&
    typeof schema.additionalProperties === 'object' &&
    !schema.properties
  ) {
    const inner = constraints(schema.additionalProperties);
    if (inner) parts.push(`values: ${inner}`);
  }
  return parts.join('; ');
}

interface Row {
  field: string;
  type: string;
  required: boolean;
  fallback: string;
  rules: string;
  description: string;
}

/** The discriminating `type` value of a oneOf member, when it has one. */
function discriminator(member: Schema): string | undefined {
  const type = member.properties?.type;
  return type?.enum?.length === 1 ? String(type.enum[0]) : undefined;
}

/**
 * Flattens an object schema into rows: nested objects as `a.b`, arrays of objects as `a[].b`.
 * A oneOf of objects keyed by `type` (the faults) is left for its own tables, in `unions`.
 */
function rows(
  schema: Schema,
  prefix: string,
  required: boolean,
  out: Row[],
  unions: Array<{ path: string; members: Schema[] }>,
): void {
  const describe = (path: string, s: Schema, isRequired: boolean): void => {
    out.push({
      field: path,
      type: typeOf(s),
      required: isRequired,
      fallback: s.default === undefined ? '' : code(s.default),
      rules: constraints(s),
      description: s.description ?? '',
    });
  };
  const members = schema.oneOf ?? schema.anyOf;
  if (members && members.every(m => discriminator(m))) {
    describe(
      prefix,
      {
        ...schema,
        oneOf: undefined,
        anyOf: undefined,
        type: `object, by \`type\`: ${members
          .map(m => code(discriminator(m)))
          .join(', ')}`,
      } as Schema,
      required,
    );
    unions.push({ path: prefix, members });
    return;
  }
  if (schema.type === 'object' && schema.properties) {
    if (prefix)
      describe(prefix, { ...schema, properties: undefined }, required);
    for (const [name, property] of Object.entries(schema.properties)) {
      rows(
        property,
        prefix ? `${prefix}.${name}` : name,
        (schema.required ?? []).includes(name),
        out,
        unions,
      );
    }
    return;
  }
  if (
    schema.type === 'array' &&
    schema.items &&
    !schema.items.$ref &&
    (schema.items.properties || schema.items.oneOf || schema.items.anyOf)
  ) {
    describe(prefix, { ...schema, items: { type: 'object' } }, required);
    rows(schema.items, `${prefix}[]`, true, out, unions);
    return;
  }
  describe(prefix, schema, required);
}

function table(tableRows: Row[]): string[] {
  const lines = [
    '| field | type | required | default | constraints | description |',
    '|---|---|---|---|---|---|',
  ];
  for (const row of tableRows) {
    lines.push(
      `| ${[
        code(row.field),
        row.type,
        row.required ? 'yes' : 'no',
        row.fallback,
        row.rules,
        row.description,
      ]
        .map(cell)
        .join(' | ')} |`,
    );
  }
  return lines;
}

function schemaSection(name: string, schema: Schema): string[] {
  const lines = [`### ${name}`, ''];
  if (schema.description) lines.push(schema.description, '');
  if (schema.allOf) {
    const refs = schema.allOf
      .filter(s => s.$ref)
      .map(s => schemaLink(refName(s.$ref!)));
    const own = schema.allOf.filter(s => !s.$ref);
    lines.push(`Every field of ${refs.join(' and ')}, and:`, '');
    const tableRows: Row[] = [];
    own.forEach(s => rows(s, '', true, tableRows, []));
    return [...lines, ...table(tableRows), ''];
  }
  const tableRows: Row[] = [];
  const unions: Array<{ path: string; members: Schema[] }> = [];
  rows(schema, '', true, tableRows, unions);
  lines.push(...table(tableRows), '');
  for (const union of unions) {
    for (const member of union.members) {
      const memberRows: Row[] = [];
      rows(member, union.path, true, memberRows, []);
      lines.push(
        `${code(union.path)} with \`type: ${discriminator(member)}\`:`,
        '',
        ...table(memberRows.slice(1)),
        '',
      );
    }
  }
  return lines;
}

function operationSection(
  doc: OpenApiDocument,
  method: string,
  path: string,
  item: PathItem,
  op: Operation,
): string[] {
  const lines = [
    `### ${method.toUpperCase()} ${path}`,
    '',
    `\`${op.operationId}\`: ${op.summary ?? ''}`,
    '',
  ];
  if (op.description) lines.push(op.description, '');
  const parameters = [...(item.parameters ?? []), ...(op.parameters ?? [])].map(
    p => resolve(doc, p, 'parameters'),
  );
  if (parameters.length) {
    lines.push(
      '| parameter | in | type | required | default | constraints | description |',
      '|---|---|---|---|---|---|---|',
    );
    for (const p of parameters) {
      const s = p.schema ?? {};
      lines.push(
        `| ${[
          code(p.name),
          p.in,
          typeOf(s),
          p.required ? 'yes' : 'no',
          s.default === undefined ? '' : code(s.default),
          constraints(s),
          p.description ?? '',
        ]
          .map(cell)
          .join(' | ')} |`,
      );
    }
    lines.push('');
  }
  const body = op.requestBody?.content?.['application/json']?.schema;
  if (body)
    lines.push(
      `Body (${op.requestBody!.required ? 'required' : 'optional'}): ${typeOf(
        body,
      )}`,
      '',
    );
  lines.push('| status | meaning | body |', '|---|---|---|');
  for (const [status, raw] of Object.entries(op.responses)) {
    const response = resolve(doc, raw, 'responses');
    const schema = response.content?.['application/json']?.schema;
    lines.push(
      `| ${[status, response.description ?? '', schema ? typeOf(schema) : '']
        .map(cell)
        .join(' | ')} |`,
    );
  }
  lines.push('');
  return lines;
}

/** docs/API.md for the given OpenAPI document. */
export function renderApiDoc(doc: OpenApiDocument, source: string): string {
  const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
    METHODS.filter(m => item[m]).map(method => ({
      path,
      method,
      item,
      op: item[method]!,
    })),
  );
  const lines = [
    '# ChaosCraft backend API',
    '',
    `<!-- Generated from ${source} by plugins/chaos-backend/src/schema/apiDoc.ts; do not edit by hand.`,
    '     `make generate` rewrites it; apiDoc.test.ts fails when it is stale. -->',
    '',
    `${doc.info.title} ${doc.info.version}. ${doc.info.description ?? ''}`,
    '',
    'The plugin is mounted at `/api/chaos` of the Backstage backend. Every request carries a Backstage token:',
    '`Authorization: Bearer <token>` (a user token from the app, or a service token). Errors have the body',
    `${schemaLink(
      'Error',
    )}, as every Backstage backend answers them; a 400 names the offending field.`,
    '',
    '## Operations',
    '',
    '| method | path | operation | summary |',
    '|---|---|---|---|',
    ...operations.map(
      ({ path, method, op }) =>
        `| ${[
          method.toUpperCase(),
          `[${path}](#${anchor(`${method} ${path}`)})`,
          op.operationId,
          op.summary ?? '',
        ]
          .map(cell)
          .join(' | ')} |`,
    ),
    '',
    ...operations.flatMap(({ path, method, item, op }) =>
      operationSection(doc, method, path, item, op),
    ),
    '## Schemas',
    '',
    ...Object.entries(doc.components.schemas).flatMap(([name, schema]) =>
      schemaSection(name, schema),
    ),
  ];
  return `${lines
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trimEnd()}\n`;
}
