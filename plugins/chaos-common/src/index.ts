/**
 * Common ChaosCraft code, isomorphic: the experiment model (one zod schema from which the
 * TypeScript types, the API validation and the CRD schemas derive), permissions,
 * annotations and the API's types. Used by the backend, the frontend and the agent.
 *
 * @packageDocumentation
 */

export * from './model';
export * from './crd/crds';
export { toStructuralSchema } from './crd/structuralSchema';
export type { JSONSchemaProps } from './crd/structuralSchema';
export * from './permissions';
export * from './annotations';
export * from './api';
export { formatZodIssues } from './validation';
export type { FieldIssue } from './validation';
export * from './selector/labelSelector';
export * from './selector/entityTarget';
export * from './ceilings/ceilings';
export * from './ceilings/probeHosts';
