export { ExperimentForm } from './ExperimentForm';
export type { ExperimentFormProps } from './ExperimentForm';
export { emptyFormState, formStateFromExperiment } from './formModel';
