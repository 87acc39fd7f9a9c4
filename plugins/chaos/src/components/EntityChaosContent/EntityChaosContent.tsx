import { useState } from 'react';
import useAsync from 'react-use/esm/useAsync';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import { useSearchParams } from 'react-router-dom';
import { Typography } from '@material-ui/core';
import TablePagination from '@material-ui/core/TablePagination';
import {
  Content,
  ContentHeader,
  EmptyState,
  MissingAnnotationEmptyState,
  Progress,
  ResponseErrorPanel,
  Table,
  TableColumn,
} from '@backstage/core-components';
import { useApi } from '@backstage/frontend-plugin-api';
import { useEntity } from '@backstage/plugin-catalog-react';
import { usePermission } from '@backstage/plugin-permission-react';
import { stringifyEntityRef } from '@backstage/catalog-model';
import {
  CHAOS_HYPOTHESIS_QUERY_ANNOTATION,
  Experiment,
  ExperimentSpecInput,
  KUBERNETES_ID_ANNOTATION,
  KUBERNETES_LABEL_SELECTOR_ANNOTATION,
  chaosExperimentCreatePermission,
  chaosExperimentDeletePermission,
  chaosExperimentUpdatePermission,
  chaosRunCreatePermission,
  defaultMatchLabels,
  nextOccurrence,
  readEntityTarget,
} from '@chaoscraft/backstage-plugin-chaos-common';
import { chaosApiRef } from '../../api';
import {
  ExperimentForm,
  emptyFormValues,
  formValuesFromExperiment,
} from '../ExperimentForm';
import { GuardedButton, RunButton } from '../RunButton';
import { formatTime, RunDetail } from '../RunDetail';
import { RUN_SEARCH_PARAM, RunHistory } from '../RunHistory';
import { ExperimentSources, ManagedBySource } from '../ExperimentSources';

const PAGE_SIZE = 10;

function describeSelection(e: Experiment): string {
  const { mode, count, percent } = e.target.selection;
  if (mode === 'fixed') return `${count} pods`;
  if (mode === 'percent') return `${percent}% of pods`;
  return 'one pod';
}

/**
 * The entity's Chaos tab: its experiments and their runs; for its owners, creating, editing,
 * deleting and running them. `?run=<id>` shows one run instead, so a run has a link.
 */
export const EntityChaosContent = () => {
  const { entity } = useEntity();
  const api = useApi(chaosApiRef);
  const entityRef = stringifyEntityRef(entity);
  const annotations = entity.metadata.annotations ?? {};
  // Where the entity's pods are, as the backend reads it: experiments can point nowhere else.
  const { target: entityTarget, problem } = readEntityTarget(annotations);

  const [page, setPage] = useState(0);
  const [editing, setEditing] = useState<Experiment | 'new' | undefined>();
  const [actionError, setActionError] = useState<Error | undefined>();

  const canCreate = usePermission({
    permission: chaosExperimentCreatePermission,
    resourceRef: entityRef,
  });
  const canUpdate = usePermission({
    permission: chaosExperimentUpdatePermission,
    resourceRef: entityRef,
  });
  const canDelete = usePermission({
    permission: chaosExperimentDeletePermission,
    resourceRef: entityRef,
  });
  const canRun = usePermission({
    permission: chaosRunCreatePermission,
    resourceRef: entityRef,
  });
  const notOwner = `Only the owners of ${entity.metadata.name} may change its experiments`;
  const notRunner = `Only the owners of ${entity.metadata.name} may run its experiments`;

  const [searchParams, setSearchParams] = useSearchParams();
  const selectedRunId = searchParams.get(RUN_SEARCH_PARAM);
  const showRun = (runId: string | undefined) =>
    setSearchParams(params => {
      const next = new URLSearchParams(params);
      if (runId) next.set(RUN_SEARCH_PARAM, runId);
      else next.delete(RUN_SEARCH_PARAM);
      return next;
    });

  // The ceilings the form checks with; without them (an old backend) only the backend checks.
  const ceilings = useAsync(
    () => api.getEntityCeilings(entityRef),
    [api, entityRef],
  );

  const experiments = useAsyncRetry(
    () =>
      api.listExperiments({
        entityRef,
        offset: page * PAGE_SIZE,
        limit: PAGE_SIZE,
      }),
    [api, entityRef, page],
  );

  if (!entityTarget) {
    return (
      <MissingAnnotationEmptyState
        annotation={
          problem.annotation === KUBERNETES_LABEL_SELECTOR_ANNOTATION
            ? [KUBERNETES_LABEL_SELECTOR_ANNOTATION, KUBERNETES_ID_ANNOTATION]
            : problem.annotation
        }
        readMoreUrl="https://backstage.io/docs/features/kubernetes/configuration#surfacing-your-kubernetes-components-as-part-of-an-entity"
      />
    );
  }

  const save = async (spec: ExperimentSpecInput) => {
    if (editing === 'new') await api.createExperiment(spec);
    else if (editing) await api.updateExperiment(editing.id, spec);
    setEditing(undefined);
    experiments.retry();
  };

  const remove = async (experiment: Experiment) => {
    setActionError(undefined);
    try {
      await api.deleteExperiment(experiment.id);
      experiments.retry();
    } catch (error) {
      setActionError(error as Error);
    }
  };

  const columns: TableColumn<Experiment>[] = [
    { title: 'Name', field: 'name', highlight: true },
    { title: 'Faults', render: e => e.faults.map(f => f.type).join(', ') },
    {
      title: 'Targets',
      render: e =>
        `${describeSelection(e)} of ${Object.entries(e.target.labelSelector)
          .map(([k, v]) => `${k}=${v}`)
          .join(',')}`,
    },
    {
      title: 'Max blast radius',
      render: e => `${e.safety.maxBlastRadiusPercent}%`,
    },
    { title: 'Duration', field: 'duration' },
    {
      title: 'Schedule',
      render: e =>
        e.schedule
          ? `${e.schedule} (UTC), next ${formatTime(
              nextOccurrence(e.schedule, new Date()).toISOString(),
            )}`
          : 'when started',
    },
    {
      title: 'Actions',
      render: e => (
        <>
          <RunButton
            experiment={e}
            allowed={canRun.allowed}
            reason={notRunner}
            onStarted={run => {
              setActionError(undefined);
              showRun(run.id);
            }}
          />
          {e.managedBy ? (
            <ManagedBySource experiment={e} />
          ) : (
            <>
              <GuardedButton
                allowed={canUpdate.allowed}
                reason={notOwner}
                onClick={() => setEditing(e)}
              >
                Edit
              </GuardedButton>
              <GuardedButton
                allowed={canDelete.allowed}
                reason={notOwner}
                onClick={() => remove(e)}
              >
                Delete
              </GuardedButton>
            </>
          )}
        </>
      ),
    },
  ];

  const maxBlast = entityTarget.maxBlastRadiusPercent;

  if (selectedRunId) {
    return (
      <Content noPadding>
        <RunDetail
          key={selectedRunId}
          runId={selectedRunId}
          onBack={() => showRun(undefined)}
        />
      </Content>
    );
  }

  return (
    <Content noPadding>
      <ContentHeader title="Chaos experiments">
        <GuardedButton
          variant="contained"
          allowed={canCreate.allowed}
          reason={notOwner}
          onClick={() => setEditing('new')}
        >
          New experiment
        </GuardedButton>
      </ContentHeader>
      {actionError && <ResponseErrorPanel error={actionError} />}
      <ExperimentSources entityRef={entityRef} />
      {experiments.loading && !experiments.value && <Progress />}
      {experiments.error && <ResponseErrorPanel error={experiments.error} />}
      {experiments.value && experiments.value.totalCount === 0 && (
        <EmptyState
          missing="data"
          title="No chaos experiments yet"
          description={`Define one to check that ${entity.metadata.name} survives losing pods, slow or lossy networks, and busy CPUs.`}
        />
      )}
      {experiments.value && experiments.value.totalCount > 0 && (
        <>
          <Table<Experiment>
            title={`${experiments.value.totalCount} experiment${
              experiments.value.totalCount === 1 ? '' : 's'
            }`}
            options={{ paging: false, search: false, padding: 'dense' }}
            columns={columns}
            data={experiments.value.items}
          />
          {experiments.value.totalCount > PAGE_SIZE && (
            <TablePagination
              component="div"
              count={experiments.value.totalCount}
              page={page}
              rowsPerPage={PAGE_SIZE}
              rowsPerPageOptions={[PAGE_SIZE]}
              onPageChange={(_e, p) => setPage(p)}
            />
          )}
        </>
      )}
      {editing && (
        <ExperimentForm
          open
          title={
            editing === 'new' ? 'New chaos experiment' : `Edit ${editing.name}`
          }
          entityRef={entityRef}
          entityTarget={entityTarget}
          experiment={editing === 'new' ? undefined : editing}
          ceilings={ceilings.value}
          hypothesisQuery={annotations[CHAOS_HYPOTHESIS_QUERY_ANNOTATION]}
          initial={
            editing === 'new'
              ? emptyFormValues({
                  namespace: entityTarget.namespace,
                  labelSelector: defaultMatchLabels(entityTarget),
                  maxBlastRadiusPercent: maxBlast,
                  hypothesisQuery:
                    annotations[CHAOS_HYPOTHESIS_QUERY_ANNOTATION],
                })
              : formValuesFromExperiment(editing)
          }
          onCancel={() => setEditing(undefined)}
          onSubmit={save}
        />
      )}
      <RunHistory entityRef={entityRef} />
      <Typography variant="caption" color="textSecondary">
        Pods of namespace {entityTarget.namespace} in cluster{' '}
        {entityTarget.cluster} matching {entityTarget.selectorText}.
      </Typography>
    </Content>
  );
};
