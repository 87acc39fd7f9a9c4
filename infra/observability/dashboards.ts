/**
 * Reads the Grafana dashboards in infra/observability/dashboards and evaluates every panel's
 * PromQL against a real Prometheus the way Grafana would: template variables substituted, range
 * targets as range queries over the window, instant targets at its end. Used by
 * agent/src/acceptance/dashboards.test.ts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

// eslint-disable-next-line no-restricted-syntax
export const DASHBOARD_DIR = path.resolve(__dirname, 'dashboards');

export interface PanelTarget {
  refId: string;
  expr: string;
  legendFormat?: string;
  instant?: boolean;
  format?: string;
}

export interface Panel {
  id: number;
  type: string;
  title: string;
  targets?: PanelTarget[];
}

export interface Dashboard {
  file: string;
  uid: string;
  title: string;
  panels: Panel[];
  templating: {
    list: Array<{
      name: string;
      type: string;
      query?: string | { query: string };
    }>;
  };
}

export function loadDashboards(dir = DASHBOARD_DIR): Dashboard[] {
  return readdirSync(dir)
    .filter(file => file.endsWith('.json'))
    .sort()
    .map(file => ({
      file,
      ...(JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as Omit<
        Dashboard,
        'file'
      >),
    }));
}

/** The values Grafana would put in for the dashboard's variables and its built-in ones. */
export interface Window {
  /** Unix seconds. */
  start: number;
  end: number;
  /** Range query resolution, in seconds ($__interval). */
  stepS: number;
  /** Prometheus' scrape interval, in seconds: $__rate_interval is four of them, as Grafana sets it. */
  scrapeIntervalS: number;
  /** Dashboard variables by name (without the $), e.g. { namespace: 'shop' }. */
  variables: Record<string, string>;
}

/** Substitutes $var, ${var} and Grafana's $__range, $__rate_interval and $__interval. */
export function interpolate(expr: string, window: Window): string {
  const builtins: Record<string, string> = {
    __range: `${Math.max(1, Math.ceil(window.end - window.start))}s`,
    __rate_interval: `${Math.max(
      window.stepS + window.scrapeIntervalS,
      4 * window.scrapeIntervalS,
    )}s`,
    __interval: `${window.stepS}s`,
  };
  const values = { ...window.variables, ...builtins };
  return expr.replace(
    /\$\{(\w+)\}|\$(\w+)/g,
    (_whole, braced: string | undefined, bare: string | undefined) => {
      const name = braced ?? bare!;
      if (!(name in values))
        throw new Error(`no value for the variable $${name} in ${expr}`);
      return values[name];
    },
  );
}

export interface Series {
  metric: Record<string, string>;
  /** [unix seconds, value] pairs; NaN and infinities left out. */
  values: Array<[number, number]>;
}

export interface QueryResult {
  dashboard: string;
  panel: string;
  refId: string;
  expr: string;
  /** Prometheus' error (a parse error names the position), else undefined. */
  error?: string;
  series: Series[];
}

async function prometheusQuery(
  url: string,
  endpoint: string,
  params: Record<string, string>,
): Promise<{ error?: string; series: Series[] }> {
  const response = await fetch(`${url}/api/v1/${endpoint}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params),
  });
  const body = (await response.json()) as {
    status: string;
    error?: string;
    data?: {
      resultType: string;
      result: Array<{
        metric: Record<string, string>;
        value?: [number, string];
        values?: Array<[number, string]>;
      }>;
    };
  };
  if (body.status !== 'success')
    return { error: body.error ?? `HTTP ${response.status}`, series: [] };
  if (
    body.data?.resultType !== 'vector' &&
    body.data?.resultType !== 'matrix'
  ) {
    return {
      error: `unexpected result type ${body.data?.resultType}`,
      series: [],
    };
  }
  const series = body.data.result
    .map(item => ({
      metric: item.metric,
      values: (item.values ?? (item.value ? [item.value] : []))
        .map(([t, v]) => [t, Number(v)] as [number, number])
        .filter(([, v]) => Number.isFinite(v)),
    }))
    .filter(item => item.values.length > 0);
  return { series };
}

/** Every target of every panel, evaluated over the window. */
export async function evaluateDashboard(
  prometheusUrl: string,
  dashboard: Dashboard,
  window: Window,
): Promise<QueryResult[]> {
  const results: QueryResult[] = [];
  for (const panel of dashboard.panels) {
    for (const target of panel.targets ?? []) {
      const expr = interpolate(target.expr, window);
      const answer = target.instant
        ? await prometheusQuery(prometheusUrl, 'query', {
            query: expr,
            time: String(window.end),
          })
        : await prometheusQuery(prometheusUrl, 'query_range', {
            query: expr,
            start: String(window.start),
            end: String(window.end),
            step: String(window.stepS),
          });
      results.push({
        dashboard: dashboard.file,
        panel: panel.title,
        refId: target.refId,
        expr,
        ...answer,
      });
    }
  }
  return results;
}

/**
 * The dashboard's query variables (`label_values(metric, label)`), answered by Prometheus'
 * label values API as Grafana's Prometheus data source does.
 */
export async function variableValues(
  prometheusUrl: string,
  dashboard: Dashboard,
  window: Window,
): Promise<Record<string, string[]>> {
  const values: Record<string, string[]> = {};
  for (const variable of dashboard.templating.list.filter(
    v => v.type === 'query',
  )) {
    const query =
      typeof variable.query === 'string'
        ? variable.query
        : variable.query?.query ?? '';
    const match = /^label_values\((\w+),\s*(\w+)\)$/.exec(query);
    if (!match)
      throw new Error(
        `variable ${variable.name}: only label_values(metric, label) is supported, got ${query}`,
      );
    const params = new URLSearchParams({
      'match[]': match[1],
      start: String(window.start),
      end: String(window.end),
    });
    const response = await fetch(
      `${prometheusUrl}/api/v1/label/${match[2]}/values?${params}`,
    );
    const body = (await response.json()) as { status: string; data?: string[] };
    values[variable.name] = body.status === 'success' ? body.data ?? [] : [];
  }
  return values;
}

/** A legend as Grafana renders `{{label}}` templates. */
export function legend(
  format: string | undefined,
  metric: Record<string, string>,
): string {
  if (!format) return JSON.stringify(metric);
  return format.replace(
    /\{\{\s*(\w+)\s*\}\}/g,
    (_, name: string) => metric[name] ?? '',
  );
}
