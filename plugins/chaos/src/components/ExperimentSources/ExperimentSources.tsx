import useAsync from 'react-use/esm/useAsync';
import { Tooltip, Typography } from '@material-ui/core';
import { Link, WarningPanel } from '@backstage/core-components';
import { useApi } from '@backstage/frontend-plugin-api';
import type {
  Experiment,
  SourceProblem,
} from '@chaoscraft/backstage-plugin-chaos-common';
import { chaosApiRef } from '../../api';

const KIND_TITLE: Record<SourceProblem['kind'], string> = {
  read: 'Could not read',
  parse: 'Not YAML',
  invalid: 'Invalid',
  conflict: 'Name conflict',
  binding: 'Outside the entity',
};

/**
 * Marks a kept-as-code experiment in its row: a short label, linked to its source when that can
 * be opened in a browser, with the source in full as its tooltip and accessible name.
 */
export const ManagedBySource = ({ experiment }: { experiment: Experiment }) => {
  const managedBy = experiment.managedBy;
  if (!managedBy) return null;
  const what =
    managedBy.kind === 'cluster'
      ? `ChaosExperiment ${managedBy.source}`
      : managedBy.source;
  const label = `Kept as code: ${what}. Read-only here: change it at its source.`;
  return (
    <Tooltip title={label}>
      <Typography
        variant="caption"
        component="span"
        data-testid="managed-by"
        aria-label={label}
      >
        {managedBy.url ? (
          <Link to={managedBy.url}>kept as code</Link>
        ) : (
          'kept as code'
        )}
      </Typography>
    </Tooltip>
  );
};

/**
 * What is wrong with the entity's experiments kept as code (a field that breaks the model, a
 * name clash with an experiment made here, a target outside the entity, a location that cannot
 * be read), so that drift is never silent. Shows nothing when all is well.
 */
export const ExperimentSources = ({ entityRef }: { entityRef: string }) => {
  const api = useApi(chaosApiRef);
  const sources = useAsync(
    () => api.listExperimentSources(entityRef),
    [api, entityRef],
  );
  const problems = (sources.value?.items ?? []).flatMap(source =>
    source.problems.map(problem => ({ source, problem })),
  );
  if (problems.length === 0) return null;
  return (
    <WarningPanel
      severity="warning"
      title={`${problems.length} problem${
        problems.length === 1 ? '' : 's'
      } with experiments kept as code`}
      defaultExpanded
    >
      <ul aria-label="Problems with experiments kept as code">
        {problems.map(({ problem }, i) => (
          <li key={i}>
            <strong>{KIND_TITLE[problem.kind]}</strong>
            {problem.name ? ` ${problem.name}` : ''} in{' '}
            <code>{problem.source}</code>:{' '}
            {problem.field ? <code>{problem.field}</code> : null}
            {problem.field ? ': ' : ''}
            {problem.message}
          </li>
        ))}
      </ul>
    </WarningPanel>
  );
};
