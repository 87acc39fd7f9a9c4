import useAsync from 'react-use/esm/useAsync';
import { Typography } from '@material-ui/core';
import { Link, WarningPanel } from '@backstage/core-components';
import { useApi } from '@backstage/frontend-plugin-api';
import type { Experiment, SourceProblem } from '@chaoscraft/backstage-plugin-chaos-common';
import { chaosApiRef } from '../../api';

const KIND_TITLE: Record<SourceProblem['kind'], string> = {
  read: 'Could not read',
  parse: 'Not YAML',
  invalid: 'Invalid',
  conflict: 'Name conflict',
  binding: 'Outside the entity',
};

/** Where a kept-as-code experiment lives, linked when it can be opened in a browser. */
export const ManagedBySource = ({ experiment }: { experiment: Experiment }) => {
  const managedBy = experiment.managedBy;
  if (!managedBy) return null;
  const what = managedBy.kind === 'cluster' ? `ChaosExperiment ${managedBy.source}` : managedBy.source;
  return (
    <Typography variant="caption" component="span" data-testid="managed-by">
      Kept as code:{' '}
      {managedBy.url ? <Link to={managedBy.url}>{what}</Link> : <code>{what}</code>}
      {' '}(read-only here: change it at its source)
    </Typography>
  );
};

/**
 * What is wrong with the entity's experiments kept as code (a field that breaks the model, a
 * name clash with an experiment made here, a target outside the entity, a location that cannot
 * be read), so that drift is never silent. Shows nothing when all is well.
 */
export const ExperimentSources = ({ entityRef }: { entityRef: string }) => {
  const api = useApi(chaosApiRef);
  const sources = useAsync(() => api.listExperimentSources(entityRef), [api, entityRef]);
  const problems = (sources.value?.items ?? []).flatMap(source => source.problems.map(problem => ({ source, problem })));
  if (problems.length === 0) return null;
  return (
    <WarningPanel
      severity="warning"
      title={`${problems.length} problem${problems.length === 1 ? '' : 's'} with experiments kept as code`}
      defaultExpanded
    >
      <ul aria-label="Problems with experiments kept as code">
        {problems.map(({ problem }, i) => (
          <li key={i}>
            <strong>{KIND_TITLE[problem.kind]}</strong>
            {problem.name ? ` ${problem.name}` : ''} in <code>{problem.source}</code>:{' '}
            {problem.field ? <code>{problem.field}</code> : null}
            {problem.field ? ': ' : ''}
            {problem.message}
          </li>
        ))}
      </ul>
    </WarningPanel>
  );
};
