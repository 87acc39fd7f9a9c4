/**
 * ChaosCraft's scaffolder actions: create chaos experiments, write them as code, run them, each on
 * behalf of the user running the template.
 *
 * @packageDocumentation
 */
export { scaffolderModuleChaos as default } from './module';
export {
  createChaosExperimentAction,
  CREATE_EXPERIMENT_ACTION_ID,
} from './actions/createExperiment';
export {
  createWriteExperimentFileAction,
  WRITE_FILE_ACTION_ID,
} from './actions/writeExperimentFile';
export { createChaosRunAction, RUN_ACTION_ID } from './actions/run';
