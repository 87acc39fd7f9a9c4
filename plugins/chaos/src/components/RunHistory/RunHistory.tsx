import { useEffect, useRef, useState } from 'react';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import { useLocation, useNavigate } from 'react-router-dom';
import {
  Box,
  Table,
  TableBody,
  TableCell,
  TableHead,
  TablePagination,
  TableRow,
  Typography,
  makeStyles,
} from '@material-ui/core';
import {
  EmptyState,
  Link,
  Progress,
  ResponseErrorPanel,
} from '@backstage/core-components';
import { useApi } from '@backstage/frontend-plugin-api';
import {
  entityRunsSignalChannel,
  isTerminalPhase,
  type Run,
} from '@chaoscraft/backstage-plugin-chaos-common';
import { chaosApiRef } from '../../api';
import { useRefreshOnSignal } from '../../hooks/useRefreshOnSignal';
import {
  RunPhaseChip,
  VerdictChip,
  formatBlastRadius,
  formatTime,
} from '../RunDetail/RunStatus';

const useStyles = makeStyles({ row: { cursor: 'pointer' } });

/** Without signals, while a run on the page is live, the list is refreshed this often. */
const LIVE_REFRESH_MS = 5000;
/** With signals (every change of the entity's runs is pushed), only in case one was lost. */
const SIGNALLED_REFRESH_MS = 30_000;

/** The search parameter that selects a run in the Chaos tab; links stay shareable. */
export const RUN_SEARCH_PARAM = 'run';

export type RunHistoryProps = {
  entityRef: string;
  pageSize?: number;
  /** Bumped by the parent to reload, e.g. after starting a run. */
  reloadKey?: number;
};

/** The entity's runs, newest first, a page at a time; a row opens the run. */
export const RunHistory = (props: RunHistoryProps) => {
  const classes = useStyles();
  const api = useApi(chaosApiRef);
  const location = useLocation();
  const navigate = useNavigate();
  const pageSize = props.pageSize ?? 10;
  const [page, setPage] = useState(0);

  const runs = useAsyncRetry(
    () =>
      api.listRuns({
        entityRef: props.entityRef,
        offset: page * pageSize,
        limit: pageSize,
      }),
    [api, props.entityRef, page, pageSize, props.reloadKey],
  );

  // The backend signals every change of the entity's runs, a new run included: read the page again.
  const { retry } = runs;
  const { isSignalsAvailable } = useRefreshOnSignal(
    entityRunsSignalChannel(props.entityRef),
    retry,
  );
  const anyLive =
    runs.value?.items.some(r => !isTerminalPhase(r.phase)) ?? false;
  // Polling, only as a fallback while a run is live; the latest retry is read through a ref so
  // that a load (which changes retry) does not restart the timer.
  const retryRef = useRef(retry);
  retryRef.current = retry;
  useEffect(() => {
    if (!anyLive) return undefined;
    const timer = setInterval(
      () => retryRef.current(),
      isSignalsAvailable ? SIGNALLED_REFRESH_MS : LIVE_REFRESH_MS,
    );
    return () => clearInterval(timer);
  }, [anyLive, isSignalsAvailable]);

  const hrefOf = (run: Run) => {
    const search = new URLSearchParams(location.search);
    search.set(RUN_SEARCH_PARAM, run.id);
    return `${location.pathname}?${search}`;
  };

  return (
    <Box component="section" aria-labelledby="chaos-run-history" mt={3}>
      <Typography
        variant="h5"
        component="h2"
        id="chaos-run-history"
        gutterBottom
      >
        Run history
      </Typography>
      {runs.loading && !runs.value && <Progress />}
      {runs.error && <ResponseErrorPanel error={runs.error} />}
      {runs.value && runs.value.totalCount === 0 && (
        <EmptyState
          missing="data"
          title="No runs yet"
          description="Runs started from an experiment above appear here, newest first."
        />
      )}
      {runs.value && runs.value.totalCount > 0 && (
        <>
          <Table size="small" aria-label="Runs">
            <TableHead>
              <TableRow>
                <TableCell>Started</TableCell>
                <TableCell>Experiment</TableCell>
                <TableCell>Phase</TableCell>
                <TableCell>Verdict</TableCell>
                <TableCell>Blast radius</TableCell>
                <TableCell>By</TableCell>
              </TableRow>
            </TableHead>
            <TableBody>
              {runs.value.items.map(run => (
                <TableRow
                  key={run.id}
                  hover
                  className={classes.row}
                  onClick={() => navigate(hrefOf(run))}
                >
                  <TableCell>
                    <Link to={hrefOf(run)} onClick={e => e.stopPropagation()}>
                      {formatTime(run.startedAt ?? run.createdAt)}
                    </Link>
                    {run.dryRun && ' (dry run)'}
                  </TableCell>
                  <TableCell>{run.experimentName}</TableCell>
                  <TableCell>
                    <RunPhaseChip size="small" phase={run.phase} />
                  </TableCell>
                  <TableCell>
                    <VerdictChip verdict={run.verdict} />
                    {!run.verdict && '—'}
                  </TableCell>
                  <TableCell>
                    {run.blastRadius ? formatBlastRadius(run.blastRadius) : '—'}
                  </TableCell>
                  <TableCell>{run.createdBy}</TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
          {runs.value.totalCount > pageSize && (
            <TablePagination
              component="div"
              count={runs.value.totalCount}
              page={page}
              rowsPerPage={pageSize}
              rowsPerPageOptions={[pageSize]}
              onPageChange={(_e, p) => setPage(p)}
            />
          )}
        </>
      )}
    </Box>
  );
};
