export { ExperimentForm } from './ExperimentForm';
export type { ExperimentFormProps } from './ExperimentForm';
export { emptyFormValues, formValuesFromExperiment } from './formModel';
export type { FormValues } from './formModel';
