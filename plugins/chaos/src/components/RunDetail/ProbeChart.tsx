import { Box, Typography, makeStyles, useTheme } from '@material-ui/core';
import {
  CartesianGrid,
  Line,
  LineChart,
  ReferenceArea,
  ReferenceLine,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import type { ProbeResult } from '@chaoscraft/backstage-plugin-chaos-common';
import type { InjectionWindow } from './injectionWindow';

const useStyles = makeStyles(theme => ({
  figure: { margin: 0, marginBottom: theme.spacing(3) },
  caption: { display: 'flex', gap: theme.spacing(1), alignItems: 'baseline', flexWrap: 'wrap' },
}));

type Point = { time: number; value: number | null; ok: boolean; phase: string; error?: string };

const clock = (t: number): string => new Date(t).toLocaleTimeString();

/**
 * One probe's samples over time, with its threshold as a line and the window in which faults
 * were active shaded, so a dip can be read against the injection at a glance.
 */
export const ProbeChart = (props: { probe: ProbeResult; window?: InjectionWindow }) => {
  const classes = useStyles();
  const theme = useTheme();
  const { probe, window } = props;
  const data: Point[] = probe.samples
    .map(s => ({ time: Date.parse(s.time), value: s.value ?? null, ok: s.ok, phase: s.phase, error: s.error }))
    .sort((a, b) => a.time - b.time);
  const failing = probe.samples.filter(s => !s.ok).length;

  return (
    <figure className={classes.figure} aria-label={`Samples of probe ${probe.name}`}>
      <figcaption className={classes.caption}>
        <Typography variant="subtitle1" component="span"><strong>{probe.name}</strong></Typography>
        <Typography variant="body2" component="span" color="textSecondary">
          {probe.type}
          {probe.threshold !== undefined && ` · healthy when value ${[probe.comparison, probe.threshold].filter(x => x !== undefined).join(' ')}`}
          {` · ${probe.verdict}`}
          {` · ${probe.samples.length} sample${probe.samples.length === 1 ? '' : 's'}, ${failing} failing`}
        </Typography>
      </figcaption>
      {data.length === 0 ? (
        <Typography color="textSecondary">No samples yet.</Typography>
      ) : (
        <Box height={220}>
          <ResponsiveContainer width="100%" height="100%" initialDimension={{ width: 600, height: 220 }}>
            <LineChart data={data} margin={{ top: 8, right: 24, bottom: 8, left: 8 }}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis
                dataKey="time"
                type="number"
                scale="time"
                domain={['dataMin', 'dataMax']}
                tickFormatter={clock}
              />
              <YAxis />
              <Tooltip
                labelFormatter={label => clock(Number(label))}
                formatter={value => [value ?? 'no value', probe.name]}
              />
              {window && (
                <ReferenceArea
                  x1={window.start}
                  // Still injecting: shade up to the newest sample, the last moment known.
                  x2={window.end ?? Math.max(window.start, data[data.length - 1].time)}
                  ifOverflow="extendDomain"
                  fill={theme.palette.warning.main}
                  fillOpacity={0.15}
                  label={{ value: 'faults active', position: 'insideTop' }}
                />
              )}
              {probe.threshold !== undefined && (
                <ReferenceLine
                  y={probe.threshold}
                  ifOverflow="extendDomain"
                  stroke={theme.palette.error.main}
                  strokeDasharray="6 3"
                  label={{ value: `threshold ${probe.threshold}`, position: 'insideTopRight' }}
                />
              )}
              <Line
                type="monotone"
                dataKey="value"
                stroke={theme.palette.primary.main}
                isAnimationActive={false}
                connectNulls
                dot={(dot: { cx?: number; cy?: number; payload?: Point; index?: number }) => dot.cy === undefined || dot.cy === null ? <g key={dot.index} /> : (
                  <circle
                    key={dot.index}
                    cx={dot.cx}
                    cy={dot.cy}
                    r={3}
                    fill={dot.payload?.ok === false ? theme.palette.error.main : theme.palette.primary.main}
                  />
                )}
              />
            </LineChart>
          </ResponsiveContainer>
        </Box>
      )}
    </figure>
  );
};
