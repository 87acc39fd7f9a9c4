import type { z } from 'zod';
import { chaosExperimentSpecSchema } from '../model/experiment';
import { chaosRunSpecSchema, chaosRunStatusSchema } from '../model/run';
import { JSONSchemaProps, toStructuralSchema } from './structuralSchema';

export const CHAOS_GROUP = 'chaoscraft.io';
export const CHAOS_VERSION = 'v1alpha1';
export const CHAOS_API_VERSION = `${CHAOS_GROUP}/${CHAOS_VERSION}`;

/** Names of the custom resources, as the API server and client libraries want them. */
export const CHAOS_RUN = {
  kind: 'ChaosRun',
  plural: 'chaosruns',
  singular: 'chaosrun',
  shortNames: ['crun'],
} as const;
export const CHAOS_EXPERIMENT = {
  kind: 'ChaosExperiment',
  plural: 'chaosexperiments',
  singular: 'chaosexperiment',
  shortNames: ['cexp'],
} as const;

type ResourceNames = typeof CHAOS_RUN | typeof CHAOS_EXPERIMENT;

type PrinterColumn = {
  name: string;
  type: string;
  jsonPath: string;
  description?: string;
  priority?: number;
};

/** A CustomResourceDefinition object, ready to be serialized to YAML or applied. */
export type CustomResourceDefinition = {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string; labels: Record<string, string> };
  spec: {
    group: string;
    names: {
      kind: string;
      listKind: string;
      plural: string;
      singular: string;
      shortNames: string[];
      categories: string[];
    };
    scope: 'Namespaced';
    versions: Array<{
      name: string;
      served: true;
      storage: true;
      schema: { openAPIV3Schema: JSONSchemaProps };
      subresources: { status: {} };
      additionalPrinterColumns: PrinterColumn[];
    }>;
  };
};

function crd(
  names: ResourceNames,
  spec: z.ZodType,
  status: z.ZodType | undefined,
  columns: PrinterColumn[],
  description: string,
): CustomResourceDefinition {
  const properties: Record<string, JSONSchemaProps> = {
    apiVersion: { type: 'string' },
    kind: { type: 'string' },
    metadata: { type: 'object' },
    spec: toStructuralSchema(spec),
  };
  properties.status = status
    ? toStructuralSchema(status)
    : { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${names.plural}.${CHAOS_GROUP}`,
      labels: { 'app.kubernetes.io/part-of': 'chaoscraft' },
    },
    spec: {
      group: CHAOS_GROUP,
      names: {
        kind: names.kind,
        listKind: `${names.kind}List`,
        plural: names.plural,
        singular: names.singular,
        shortNames: [...names.shortNames],
        categories: ['chaoscraft'],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: CHAOS_VERSION,
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description,
              properties,
              required: ['spec'],
            },
          },
          subresources: { status: {} },
          additionalPrinterColumns: columns,
        },
      ],
    },
  };
}

/** Both CRDs, derived from the one experiment model. */
export function chaosCustomResourceDefinitions(): CustomResourceDefinition[] {
  return [
    crd(
      CHAOS_RUN,
      chaosRunSpecSchema,
      chaosRunStatusSchema,
      [
        { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
        { name: 'Verdict', type: 'string', jsonPath: '.status.verdict' },
        {
          name: 'Blast',
          type: 'string',
          description: 'Selected of eligible pods, in percent',
          jsonPath: '.status.blastRadius.percent',
        },
        {
          name: 'Reason',
          type: 'string',
          jsonPath: '.status.reason',
          priority: 1,
        },
        { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
      ],
      'ChaosRun is one execution of a chaos experiment against pods of one namespace.',
    ),
    crd(
      CHAOS_EXPERIMENT,
      chaosExperimentSpecSchema,
      undefined,
      [
        {
          name: 'Namespace',
          type: 'string',
          jsonPath: '.spec.target.namespace',
        },
        { name: 'Schedule', type: 'string', jsonPath: '.spec.schedule' },
        { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
      ],
      'ChaosExperiment is a reusable chaos experiment definition kept as code in the cluster.',
    ),
  ];
}
