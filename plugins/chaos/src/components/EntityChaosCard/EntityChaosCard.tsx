import useAsync from 'react-use/esm/useAsync';
import { Box, Typography, makeStyles } from '@material-ui/core';
import { InfoCard, Link, Progress, ResponseErrorPanel } from '@backstage/core-components';
import { useApi } from '@backstage/frontend-plugin-api';
import { useEntity, useEntityRefLink } from '@backstage/plugin-catalog-react';
import { stringifyEntityRef } from '@backstage/catalog-model';
import { MAX_PAGE_LIMIT } from '@chaoscraft/backstage-plugin-chaos-common';
import { chaosApiRef } from '../../api';
import { RunPhaseChip, VerdictChip, formatTime } from '../RunDetail/RunStatus';
import { RUN_SEARCH_PARAM } from '../RunHistory/RunHistory';
import { SUMMARY_WINDOW_DAYS, resilienceSummary } from './resilienceSummary';

const useStyles = makeStyles(theme => ({
  row: { display: 'flex', alignItems: 'center', gap: theme.spacing(1), flexWrap: 'wrap' },
  counts: { display: 'flex', gap: theme.spacing(3), marginTop: theme.spacing(2) },
}));

const Count = (props: { label: string; value: string | number }) => (
  <Box>
    <Typography variant="h5" component="p">{props.value}</Typography>
    <Typography variant="caption" color="textSecondary">{props.label}</Typography>
  </Box>
);

/** Overview card: how the entity fared in chaos lately, and the way to its Chaos tab. */
export const EntityChaosCard = () => {
  const classes = useStyles();
  const { entity } = useEntity();
  const api = useApi(chaosApiRef);
  const entityLink = useEntityRefLink();
  const entityRef = stringifyEntityRef(entity);
  const chaosTab = `${entityLink(entity)}/chaos`;

  const runs = useAsync(() => api.listRuns({ entityRef, limit: MAX_PAGE_LIMIT }), [api, entityRef]);

  let body;
  if (runs.loading) {
    body = <Progress />;
  } else if (runs.error) {
    body = <ResponseErrorPanel error={runs.error} />;
  } else if (!runs.value || runs.value.totalCount === 0) {
    body = (
      <Typography color="textSecondary">
        No runs yet. Define an experiment in the <Link to={chaosTab}>Chaos tab</Link> and run it to see how{' '}
        {entity.metadata.name} copes.
      </Typography>
    );
  } else {
    const s = resilienceSummary(runs.value);
    const last = s.lastRun!;
    body = (
      <>
        <Typography variant="subtitle2" component="h3">Last run</Typography>
        <Box className={classes.row}>
          <RunPhaseChip size="small" phase={last.phase} />
          <VerdictChip verdict={last.verdict} />
          <Link to={`${chaosTab}?${RUN_SEARCH_PARAM}=${encodeURIComponent(last.id)}`}>
            {formatTime(last.startedAt ?? last.createdAt)}
          </Link>
          {last.dryRun && <Typography variant="caption">(dry run)</Typography>}
        </Box>
        {last.message && <Typography variant="body2" color="textSecondary">{last.message}</Typography>}
        <Box className={classes.counts} aria-label={`Runs in the last ${SUMMARY_WINDOW_DAYS} days`} role="group">
          <Count label={`runs in ${SUMMARY_WINDOW_DAYS} days`} value={`${s.runs}${s.atLeast ? '+' : ''}`} />
          <Count label="passed" value={s.passed} />
          <Count label="failed" value={s.failed} />
          <Count label="refused" value={s.refused} />
        </Box>
      </>
    );
  }

  return (
    <InfoCard title="Chaos resilience" deepLink={{ title: 'Open the Chaos tab', link: chaosTab }}>
      {body}
    </InfoCard>
  );
};
