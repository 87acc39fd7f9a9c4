import { z } from 'zod';

/** The subset of OpenAPI v3 that Kubernetes accepts in a structural CRD schema. */
export type JSONSchemaProps = {
  type?: string;
  description?: string;
  properties?: Record<string, JSONSchemaProps>;
  additionalProperties?: JSONSchemaProps | boolean;
  items?: JSONSchemaProps;
  required?: string[];
  enum?: unknown[];
  default?: unknown;
  'x-kubernetes-validations'?: CelRule[];
  [keyword: string]: unknown;
};

type CelRule = { rule: string; message: string; fieldPath?: string };

const UNSUPPORTED_KEYWORDS = ['$schema', 'propertyNames', 'id', '$id'];
const SAFE_INTEGER_BOUNDS = [Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER];

/**
 * Derives a Kubernetes structural schema from a zod schema.
 *
 * zod's own JSON Schema output is close, but a CRD refuses three things it emits: `anyOf`
 * for discriminated unions, `additionalProperties: false` next to `properties`, and
 * `propertyNames`. No maintained library targets structural schemas, so this small pass
 * rewrites them: a union of objects becomes one object holding every member's fields, and
 * each member's own required fields become a CEL rule keyed on the discriminator, so the
 * API server still rejects a `pod-kill` fault without its fields by name.
 */
export function toStructuralSchema(schema: z.ZodType): JSONSchemaProps {
  const json = z.toJSONSchema(schema, {
    target: 'openapi-3.0',
    io: 'input',
    unrepresentable: 'throw',
  }) as JSONSchemaProps;
  return rewrite(json);
}

function rewrite(node: JSONSchemaProps): JSONSchemaProps {
  const out: JSONSchemaProps = {};
  for (const [key, value] of Object.entries(node)) {
    if (UNSUPPORTED_KEYWORDS.includes(key)) continue;
    if (
      (key === 'minimum' || key === 'maximum') &&
      SAFE_INTEGER_BOUNDS.includes(value as number)
    )
      continue;
    out[key] = value;
  }
  if (out.additionalProperties === false) delete out.additionalProperties;
  if (out.properties) {
    out.properties = Object.fromEntries(
      Object.entries(out.properties).map(([k, v]) => [k, rewrite(v)]),
    );
  }
  if (out.items) out.items = rewrite(out.items);
  if (typeof out.additionalProperties === 'object') {
    out.additionalProperties = rewrite(out.additionalProperties);
  }
  const members = (out.anyOf ?? out.oneOf) as JSONSchemaProps[] | undefined;
  if (members) {
    delete out.anyOf;
    delete out.oneOf;
    return mergeUnion(out, members.map(rewrite));
  }
  return out;
}

function mergeUnion(
  base: JSONSchemaProps,
  members: JSONSchemaProps[],
): JSONSchemaProps {
  const discriminator = findDiscriminator(members);
  if (!discriminator) {
    throw new Error(
      `Cannot express a union without a common enum discriminator in a structural schema: ${JSON.stringify(
        members,
      ).slice(0, 200)}`,
    );
  }
  const properties: Record<string, JSONSchemaProps> = {};
  for (const member of members) {
    for (const [name, prop] of Object.entries(member.properties ?? {})) {
      if (name === discriminator) continue;
      const seen = properties[name];
      if (seen && JSON.stringify(seen) !== JSON.stringify(prop)) {
        // Same field name with different shapes in two members: keep the first, which
        // is what a structural schema can hold; zod still validates the exact member.
        continue;
      }
      properties[name] = prop;
    }
  }
  const values = members.flatMap(m => m.properties![discriminator].enum ?? []);
  properties[discriminator] = { type: 'string', enum: values };

  const rules: CelRule[] = [];
  for (const member of members) {
    const value = member.properties![discriminator].enum![0];
    for (const field of member.required ?? []) {
      if (field === discriminator) continue;
      rules.push({
        rule: `self.${discriminator} != '${value}' || has(self.${field})`,
        message: `${field} is required when ${discriminator} is '${value}'`,
        fieldPath: `.${field}`,
      });
    }
  }
  // A field that belongs to another member is refused rather than silently dropped.
  for (const member of members) {
    const value = member.properties![discriminator].enum![0];
    const own = new Set(Object.keys(member.properties ?? {}));
    const foreign = Object.keys(properties).filter(p => !own.has(p));
    if (foreign.length > 0) {
      rules.push({
        rule: `self.${discriminator} != '${value}' || !(${foreign
          .map(f => `has(self.${f})`)
          .join(' || ')})`,
        message: `only fields of '${value}' are allowed when ${discriminator} is '${value}'`,
      });
    }
  }
  // Defaults of member fields would be applied to every member by the API server; zod
  // applies them per member instead, so they are dropped here.
  for (const prop of Object.values(properties)) delete prop.default;

  return {
    ...base,
    type: 'object',
    properties,
    required: [discriminator],
    ...(rules.length ? { 'x-kubernetes-validations': rules } : {}),
  };
}

function findDiscriminator(members: JSONSchemaProps[]): string | undefined {
  const first = members[0]?.properties ?? {};
  return Object.keys(first).find(name =>
    members.every(m => {
      const p = m.properties?.[name];
      return (
        p?.type === 'string' &&
        Array.isArray(p.enum) &&
        p.enum.length === 1 &&
        m.required?.includes(name)
      );
    }),
  );
}
