import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import {
  Box,
  List,
  ListItem,
  ListItemText,
  Typography,
  makeStyles,
} from '@material-ui/core';
import {
  InfoCard,
  Link,
  Progress,
  ResponseErrorPanel,
} from '@backstage/core-components';
import { useApi } from '@backstage/frontend-plugin-api';
import { useEntity, useEntityRefLink } from '@backstage/plugin-catalog-react';
import { stringifyEntityRef } from '@backstage/catalog-model';
import {
  type ResilienceScore,
  type ResilienceScoreFault,
  entityRunsSignalChannel,
} from '@chaoscraft/backstage-plugin-chaos-common';
import { chaosApiRef } from '../../api';
import { useRefreshOnSignal } from '../../hooks/useRefreshOnSignal';
import { RunPhaseChip, VerdictChip, formatTime } from '../RunDetail/RunStatus';
import { RUN_SEARCH_PARAM } from '../RunHistory/RunHistory';

const useStyles = makeStyles(theme => ({
  row: {
    display: 'flex',
    alignItems: 'center',
    gap: theme.spacing(1),
    flexWrap: 'wrap',
  },
  score: { display: 'flex', alignItems: 'baseline', gap: theme.spacing(1) },
  figure: { fontSize: '3rem', fontWeight: 600, lineHeight: 1 },
}));

const DAY_MS = 24 * 60 * 60 * 1000;
const SHOWN_RAISES = 3;

/** What one fault type would add, said as what to do. */
function raise(fault: ResilienceScoreFault, now: number): string {
  const gain = Math.round((fault.maxPoints - fault.points) * 10) / 10;
  if (!fault.lastPassedAt) return `pass a ${fault.type} experiment: +${gain}`;
  const days = Math.floor((now - Date.parse(fault.lastPassedAt)) / DAY_MS);
  return `pass ${fault.type} again (last passed ${days} days ago, fading): +${gain}`;
}

const ScoreView = (props: { score: ResilienceScore }) => {
  const classes = useStyles();
  const { score } = props;
  const now = Date.parse(score.computedAt);
  const raises = score.faults
    .filter(f => f.points < f.maxPoints)
    .slice(0, SHOWN_RAISES);
  const passed = score.faults.filter(f => f.points > 0).length;
  return (
    <Box aria-label="Resilience score" role="group">
      <Box className={classes.score}>
        <Typography
          component="p"
          className={classes.figure}
          data-testid="resilience-score"
        >
          {score.score}
        </Typography>
        <Typography color="textSecondary">/ 100 resilience score</Typography>
      </Box>
      <Typography variant="body2" color="textSecondary">
        {passed} of {score.faults.length} kinds of fault passed lately. A pass
        counts in full for {score.fullValueDays} days, then fades out by{' '}
        {score.zeroValueDays}.
      </Typography>
      {raises.length > 0 && (
        <>
          <Typography
            variant="subtitle2"
            component="h3"
            style={{ marginTop: 12 }}
          >
            What raises it
          </Typography>
          <List dense disablePadding aria-label="What raises it">
            {raises.map(f => (
              <ListItem key={f.type} disableGutters>
                <ListItemText primary={raise(f, now)} />
              </ListItem>
            ))}
          </List>
        </>
      )}
    </Box>
  );
};

/**
 * Overview card: the entity's resilience score as the backend computes it (each kind of fault
 * passed lately, fading with age) with what would raise it, and the last run. Refreshed when the
 * backend signals a change of the entity's runs.
 */
export const EntityChaosCard = () => {
  const classes = useStyles();
  const { entity } = useEntity();
  const api = useApi(chaosApiRef);
  const entityLink = useEntityRefLink();
  const entityRef = stringifyEntityRef(entity);
  const chaosTab = `${entityLink(entity)}/chaos`;

  const data = useAsyncRetry(async () => {
    const [score, runs] = await Promise.all([
      api.getResilienceScore(entityRef),
      api.listRuns({ entityRef, limit: 1 }),
    ]);
    return { score, last: runs.items[0] };
  }, [api, entityRef]);
  useRefreshOnSignal(entityRunsSignalChannel(entityRef), data.retry);

  let body;
  if (data.loading && !data.value) {
    body = <Progress />;
  } else if (data.error) {
    body = <ResponseErrorPanel error={data.error} />;
  } else if (data.value) {
    const { score, last } = data.value;
    body = (
      <>
        <ScoreView score={score} />
        <Typography
          variant="subtitle2"
          component="h3"
          style={{ marginTop: 12 }}
        >
          Last run
        </Typography>
        {last ? (
          <>
            <Box className={classes.row}>
              <RunPhaseChip size="small" phase={last.phase} />
              <VerdictChip verdict={last.verdict} />
              <Link
                to={`${chaosTab}?${RUN_SEARCH_PARAM}=${encodeURIComponent(
                  last.id,
                )}`}
              >
                {formatTime(last.startedAt ?? last.createdAt)}
              </Link>
              {last.dryRun && (
                <Typography variant="caption">(dry run)</Typography>
              )}
            </Box>
            {last.message && (
              <Typography variant="body2" color="textSecondary">
                {last.message}
              </Typography>
            )}
          </>
        ) : (
          <Typography color="textSecondary">
            No runs yet. Define an experiment in the{' '}
            <Link to={chaosTab}>Chaos tab</Link> and run it to see how{' '}
            {entity.metadata.name} copes.
          </Typography>
        )}
      </>
    );
  }

  return (
    <InfoCard
      title="Chaos resilience"
      deepLink={{ title: 'Open the Chaos tab', link: chaosTab }}
    >
      {body}
    </InfoCard>
  );
};
