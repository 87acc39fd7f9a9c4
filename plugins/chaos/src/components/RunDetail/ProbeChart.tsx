import {
  type RefObject,
  memo,
  useCallback,
  useEffect,
  useMemo,
  useRef,
  useState,
} from 'react';
import { Typography, makeStyles, useTheme } from '@material-ui/core';
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
  caption: {
    display: 'flex',
    gap: theme.spacing(1),
    alignItems: 'baseline',
    flexWrap: 'wrap',
  },
}));

type Point = {
  time: number;
  value: number | null;
  ok: boolean;
  phase: string;
  error?: string;
};

const clock = (t: number): string => new Date(t).toLocaleTimeString();

type ProbeChartProps = { probe: ProbeResult; window?: InjectionWindow };

/**
 * What a chart shows of its probe. A live run is read again on every change (each signal), and
 * every read gives new objects: comparing this, a chart whose probe did not change is not drawn
 * again. The agent only appends samples (dropping the oldest past 120), so the count with the
 * first and last sample's time and value tells a changed series from the same one.
 */
function probeSignature(probe: ProbeResult): string {
  const { samples } = probe;
  const first = samples[0];
  const last = samples[samples.length - 1];
  return [
    probe.name,
    probe.type,
    probe.comparison,
    probe.threshold,
    probe.verdict,
    samples.length,
    samples.filter(s => !s.ok).length,
    first?.time,
    last?.time,
    last?.value,
    last?.ok,
    last?.phase,
  ].join('|');
}

const sameChart = (a: ProbeChartProps, b: ProbeChartProps): boolean =>
  probeSignature(a.probe) === probeSignature(b.probe) &&
  a.window?.start === b.window?.start &&
  a.window?.end === b.window?.end;

const CHART_HEIGHT = 220;

/**
 * Whether the element is in or near the viewport. Written here rather than taken from a library:
 * it is one IntersectionObserver. Where there is none (jsdom), everything counts as visible.
 */
function useNearViewport(): [RefObject<HTMLDivElement>, boolean] {
  const ref = useRef<HTMLDivElement>(null);
  const [near, setNear] = useState(typeof IntersectionObserver === 'undefined');
  useEffect(() => {
    const element = ref.current;
    if (!element || typeof IntersectionObserver === 'undefined')
      return undefined;
    const observer = new IntersectionObserver(
      entries => setNear(entries.some(e => e.isIntersecting)),
      {
        rootMargin: `${CHART_HEIGHT * 2}px 0px`,
      },
    );
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  return [ref, near];
}

/**
 * One probe's samples over time, with its threshold as a line and the window in which faults
 * were active shaded, so a dip can be read against the injection at a glance; failing samples
 * are red dots on the line.
 *
 * Cost, measured and profiled by `make bench-ui` (20 charts of 120 samples, a live run redrawn on
 * every signal): nearly all of it is recharts (its selectors, tick measuring, one dot per sample).
 * So a chart is drawn only while it is in or near the viewport (its caption, with the counts,
 * always is); its axes show every tick they compute instead of measuring labels to thin them;
 * only failing samples get a dot; a chart whose probe did not change is not drawn again.
 */
export const ProbeChart = memo((props: ProbeChartProps) => {
  const classes = useStyles();
  const theme = useTheme();
  const { probe, window } = props;
  const [box, near] = useNearViewport();
  const data: Point[] = useMemo(
    () =>
      probe.samples
        .map(s => ({
          time: Date.parse(s.time),
          value: s.value ?? null,
          ok: s.ok,
          phase: s.phase,
          error: s.error,
        }))
        .sort((a, b) => a.time - b.time),
    [probe.samples],
  );
  const failedColor = theme.palette.error.main;
  // A dot for a failing sample only: recharts calls this for every sample, and nothing drawn is
  // cheaper than an element per sample (its ReferenceDot is dearer still: each one re-renders the
  // chart as it registers).
  const failedDot = useCallback(
    (dot: { cx?: number; cy?: number; payload?: Point; index?: number }) =>
      dot.payload?.ok === false && typeof dot.cy === 'number' ? (
        <circle
          key={dot.index}
          cx={dot.cx}
          cy={dot.cy}
          r={3}
          fill={failedColor}
        />
      ) : null,
    [failedColor],
  );
  const failing = probe.samples.filter(s => !s.ok).length;

  return (
    <figure
      className={classes.figure}
      aria-label={`Samples of probe ${probe.name}`}
    >
      <figcaption className={classes.caption}>
        <Typography variant="subtitle1" component="span">
          <strong>{probe.name}</strong>
        </Typography>
        <Typography variant="body2" component="span" color="textSecondary">
          {probe.type}
          {probe.threshold !== undefined &&
            ` · healthy when value ${[probe.comparison, probe.threshold]
              .filter(x => x !== undefined)
              .join(' ')}`}
          {` · ${probe.verdict}`}
          {` · ${probe.samples.length} sample${
            probe.samples.length === 1 ? '' : 's'
          }, ${failing} failing`}
        </Typography>
      </figcaption>
      {data.length === 0 ? (
        <Typography color="textSecondary">No samples yet.</Typography>
      ) : (
        <div
          ref={box}
          style={{ height: CHART_HEIGHT }}
          data-testid="probe-chart-area"
        >
          {near && (
            <ResponsiveContainer
              width="100%"
              height="100%"
              initialDimension={{ width: 600, height: CHART_HEIGHT }}
            >
              <LineChart
                data={data}
                margin={{ top: 8, right: 24, bottom: 8, left: 8 }}
              >
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis
                  dataKey="time"
                  type="number"
                  scale="time"
                  domain={['dataMin', 'dataMax']}
                  tickFormatter={clock}
                  interval={0}
                />
                <YAxis interval={0} />
                <Tooltip
                  labelFormatter={label => clock(Number(label))}
                  formatter={value => [value ?? 'no value', probe.name]}
                />
                {window && (
                  <ReferenceArea
                    x1={window.start}
                    // Still injecting: shade up to the newest sample, the last moment known.
                    x2={
                      window.end ??
                      Math.max(window.start, data[data.length - 1].time)
                    }
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
                    label={{
                      value: `threshold ${probe.threshold}`,
                      position: 'insideTopRight',
                    }}
                  />
                )}
                <Line
                  type="monotone"
                  dataKey="value"
                  stroke={theme.palette.primary.main}
                  isAnimationActive={false}
                  connectNulls
                  dot={failedDot}
                />
              </LineChart>
            </ResponsiveContainer>
          )}
        </div>
      )}
    </figure>
  );
}, sameChart);
ProbeChart.displayName = 'ProbeChart';
