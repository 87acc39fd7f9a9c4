export { ExperimentSources, ManagedBySource } from './ExperimentSources';
