/**
 * Kubernetes label selectors in their full string syntax (`app=checkout,tier in (web,api),!canary`),
 * and the one question security needs answered: is every pod one selector matches also matched
 * by another? Hand-written: the grammar is small and fixed by Kubernetes, and this has to run in
 * the browser, the backend and the agent alike; no maintained isomorphic library parses it.
 */

export type SelectorOperator = 'in' | 'notin' | 'exists' | 'doesnotexist';

/** One requirement of a selector; `=`/`==` are `in` with one value, `!=` is `notin` with one. */
export type LabelRequirement = {
  key: string;
  operator: SelectorOperator;
  /** Sorted, without duplicates; empty for exists and doesnotexist. */
  values: string[];
};

/** A selector is the conjunction of its requirements; the empty selector matches everything. */
export type LabelSelectorRequirements = LabelRequirement[];

export class LabelSelectorSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LabelSelectorSyntaxError';
  }
}

const KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
/** Bounds, so that a hostile annotation cannot make parsing or containment expensive. */
const MAX_SELECTOR_LENGTH = 4096;
const MAX_REQUIREMENTS = 64;
const MAX_VALUES = 64;

function checkKey(key: string): string {
  const [prefix, name] = key.includes('/')
    ? key.split('/', 2)
    : [undefined, key];
  if (
    !KEY.test(key) ||
    name.length > 63 ||
    (prefix !== undefined && prefix.length > 253)
  ) {
    throw new LabelSelectorSyntaxError(`'${key}' is not a valid label key`);
  }
  return key;
}

function checkValue(value: string): string {
  if (!VALUE.test(value) || value.length > 63) {
    throw new LabelSelectorSyntaxError(`'${value}' is not a valid label value`);
  }
  return value;
}

function requirement(
  key: string,
  operator: SelectorOperator,
  values: string[] = [],
): LabelRequirement {
  if (values.length > MAX_VALUES)
    throw new LabelSelectorSyntaxError(
      `more than ${MAX_VALUES} values for '${key}'`,
    );
  return {
    key: checkKey(key),
    operator,
    values: [...new Set(values.map(checkValue))].sort(),
  };
}

/** Splits on commas that are not inside a parenthesised value list. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
    if (depth < 0 || depth > 1)
      throw new LabelSelectorSyntaxError('unbalanced parentheses');
  }
  if (depth !== 0) throw new LabelSelectorSyntaxError('unbalanced parentheses');
  parts.push(text.slice(start));
  return parts;
}

/**
 * Parses a selector string as `kubectl -l` and the API server read it. Throws
 * LabelSelectorSyntaxError saying what is wrong. The empty string is the empty selector.
 */
export function parseLabelSelector(text: string): LabelSelectorRequirements {
  if (text.length > MAX_SELECTOR_LENGTH)
    throw new LabelSelectorSyntaxError(
      `longer than ${MAX_SELECTOR_LENGTH} characters`,
    );
  if (text.trim() === '') return [];
  const requirements: LabelRequirement[] = [];
  for (const raw of splitTopLevel(text)) {
    const part = raw.trim();
    if (part === '')
      throw new LabelSelectorSyntaxError('empty requirement (a stray comma)');
    const setBased = /^(\S+)\s+(in|notin)\s*\(([^()]*)\)$/.exec(part);
    const equality = /^([^\s!=]+)\s*(==|=|!=)\s*([^\s!=(),]*)$/.exec(part);
    const absent = /^!\s*([^\s!=(),]+)$/.exec(part);
    const present = /^([^\s!=(),]+)$/.exec(part);
    if (setBased) {
      const values = setBased[3].split(',').map(v => v.trim());
      if (values.some(v => v === ''))
        throw new LabelSelectorSyntaxError(`empty value in '${part}'`);
      requirements.push(
        requirement(setBased[1], setBased[2] as 'in' | 'notin', values),
      );
    } else if (equality) {
      requirements.push(
        requirement(equality[1], equality[2] === '!=' ? 'notin' : 'in', [
          equality[3],
        ]),
      );
    } else if (absent) {
      requirements.push(requirement(absent[1], 'doesnotexist'));
    } else if (present) {
      requirements.push(requirement(present[1], 'exists'));
    } else {
      throw new LabelSelectorSyntaxError(`cannot read '${part}'`);
    }
    if (requirements.length > MAX_REQUIREMENTS)
      throw new LabelSelectorSyntaxError(
        `more than ${MAX_REQUIREMENTS} requirements`,
      );
  }
  return requirements;
}

/** `matchLabels` as requirements. */
export function requirementsFromMatchLabels(
  labels: Record<string, string>,
): LabelSelectorRequirements {
  return Object.entries(labels).map(([key, value]) => ({
    key,
    operator: 'in',
    values: [value],
  }));
}

/** The canonical string of a selector (as kubectl would print it). */
export function formatLabelSelector(
  requirements: LabelSelectorRequirements,
): string {
  return requirements
    .map(r => {
      switch (r.operator) {
        case 'exists':
          return r.key;
        case 'doesnotexist':
          return `!${r.key}`;
        case 'in':
          return r.values.length === 1
            ? `${r.key}=${r.values[0]}`
            : `${r.key} in (${r.values.join(',')})`;
        default:
          return r.values.length === 1
            ? `${r.key}!=${r.values[0]}`
            : `${r.key} notin (${r.values.join(',')})`;
      }
    })
    .join(',');
}

/** Does a pod with these labels match? Kubernetes semantics: `notin` also matches a missing key. */
export function matchesLabels(
  requirements: LabelSelectorRequirements,
  labels: Record<string, string>,
): boolean {
  return requirements.every(r => {
    const has = Object.prototype.hasOwnProperty.call(labels, r.key);
    switch (r.operator) {
      case 'exists':
        return has;
      case 'doesnotexist':
        return !has;
      case 'in':
        return has && r.values.includes(labels[r.key]);
      default:
        return !has || !r.values.includes(labels[r.key]);
    }
  });
}

/**
 * The values one key may take under a selector, `ABSENT` standing for "no such label". Label
 * values are (for this purpose) infinitely many, so a set is either finite (`only`) or everything
 * but a finite set (`except`). Intersections and inclusions of these two forms are exact.
 */
const ABSENT = '\u0000absent';
type ValueSet = { only: Set<string> } | { except: Set<string> };

function allowedBy(r: LabelRequirement): ValueSet {
  switch (r.operator) {
    case 'in':
      return { only: new Set(r.values) };
    case 'notin':
      return { except: new Set(r.values) };
    case 'exists':
      return { except: new Set([ABSENT]) };
    default:
      return { only: new Set([ABSENT]) };
  }
}

function intersect(a: ValueSet, b: ValueSet): ValueSet {
  if ('only' in a && 'only' in b)
    return { only: new Set([...a.only].filter(v => b.only.has(v))) };
  if ('only' in a && 'except' in b)
    return { only: new Set([...a.only].filter(v => !b.except.has(v))) };
  if ('except' in a && 'only' in b) return intersect(b, a);
  const ea = (a as { except: Set<string> }).except;
  const eb = (b as { except: Set<string> }).except;
  return { except: new Set([...ea, ...eb]) };
}

function isSubset(a: ValueSet, b: ValueSet): boolean {
  if ('only' in a) {
    return 'only' in b
      ? [...a.only].every(v => b.only.has(v))
      : [...a.only].every(v => !b.except.has(v));
  }
  // A co-finite set is inside a finite one never, inside another co-finite one when it excludes more.
  return 'except' in b && [...b.except].every(v => a.except.has(v));
}

/** Per key, what a selector allows; keys it does not mention allow anything. */
function allowedValues(
  requirements: LabelSelectorRequirements,
): Map<string, ValueSet> {
  const byKey = new Map<string, ValueSet>();
  for (const r of requirements) {
    const current = byKey.get(r.key);
    byKey.set(r.key, current ? intersect(current, allowedBy(r)) : allowedBy(r));
  }
  return byKey;
}

/** Can no pod at all match? (`a=x,a=y`, `a,!a`.) */
export function isUnsatisfiable(
  requirements: LabelSelectorRequirements,
): boolean {
  return [...allowedValues(requirements).values()].some(
    set => 'only' in set && set.only.size === 0,
  );
}

/**
 * Is `narrow` at least as narrow as `wide`: does every label set that `narrow` matches also
 * match `wide`? Returns undefined when it is, else the first requirement of `wide` that `narrow`
 * does not imply, which is what an error message should name. Exact for the whole selector
 * syntax: each side is a conjunction of per-key constraints, so narrow ⊆ wide exactly when narrow
 * matches nothing or, for every requirement of wide, narrow's allowed values for that key lie
 * inside what the requirement allows.
 */
export function selectorWithin(
  narrow: LabelSelectorRequirements,
  wide: LabelSelectorRequirements,
): LabelRequirement | undefined {
  if (isUnsatisfiable(narrow)) return undefined;
  const allowed = allowedValues(narrow);
  const anything: ValueSet = { except: new Set() };
  return wide.find(
    r => !isSubset(allowed.get(r.key) ?? anything, allowedBy(r)),
  );
}
