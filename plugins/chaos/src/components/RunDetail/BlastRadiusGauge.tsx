import { Box, LinearProgress, Typography, makeStyles } from '@material-ui/core';
import type { BlastRadius } from '@chaoscraft/backstage-plugin-chaos-common';
import { formatBlastRadius, formatPercent } from './RunStatus';

const useStyles = makeStyles(theme => ({
  track: {
    position: 'relative',
    marginTop: theme.spacing(1),
    marginBottom: theme.spacing(2),
  },
  bar: { height: 12, borderRadius: 6 },
  within: { backgroundColor: theme.palette.success.main },
  over: { backgroundColor: theme.palette.error.main },
  limit: {
    position: 'absolute',
    top: -4,
    height: 20,
    width: 3,
    marginLeft: -1,
    backgroundColor: theme.palette.text.primary,
  },
  limitLabel: {
    position: 'absolute',
    top: 18,
    transform: 'translateX(-50%)',
    whiteSpace: 'nowrap',
  },
}));

/**
 * Selected of eligible pods as a bar, with a marker at the limit: a run whose bar crosses the
 * marker is refused before anything is touched.
 */
export const BlastRadiusGauge = (props: {
  blastRadius?: BlastRadius;
  ceiling?: number;
}) => {
  const classes = useStyles();
  const b = props.blastRadius;
  if (!b) {
    return (
      <Typography color="textSecondary">
        Not computed yet: targets are selected during preflight.
      </Typography>
    );
  }
  const over = b.percent > b.limit;
  return (
    <Box>
      <Typography data-testid="blast-radius">
        {formatBlastRadius(b)} · limit {formatPercent(b.limit)}
      </Typography>
      {props.ceiling !== undefined && (
        <Typography
          variant="body2"
          color="textSecondary"
          data-testid="blast-radius-ceiling"
        >
          The experiment's limit may be at most {formatPercent(props.ceiling)}{' '}
          for this entity (the operator's and the entity's ceilings).
        </Typography>
      )}
      <Box className={classes.track}>
        <LinearProgress
          variant="determinate"
          value={Math.min(100, b.percent)}
          aria-label="Blast radius"
          aria-valuetext={`${formatBlastRadius(b)}, limit ${formatPercent(
            b.limit,
          )}`}
          classes={{
            root: classes.bar,
            bar: over ? classes.over : classes.within,
          }}
        />
        <Box
          className={classes.limit}
          style={{ left: `${b.limit}%` }}
          title={`Limit ${formatPercent(b.limit)}`}
          aria-hidden
        />
        <Typography
          variant="caption"
          className={classes.limitLabel}
          style={{ left: `${b.limit}%` }}
          aria-hidden
        >
          limit
        </Typography>
      </Box>
    </Box>
  );
};
