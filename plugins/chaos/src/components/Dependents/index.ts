export { DependentsList } from './DependentsList';
export { findDependents } from './dependents';
export type { Dependent } from './dependents';
