import {
  startTransition,
  useCallback,
  useEffect,
  useRef,
  useState,
} from 'react';
import { useApi } from '@backstage/frontend-plugin-api';
import { useSignal } from '@backstage/plugin-signals-react';
import {
  type ChaosRunSignal,
  isTerminalPhase,
  runSignalChannel,
  type RunDetail,
} from '@chaoscraft/backstage-plugin-chaos-common';
import { chaosApiRef } from '../../api';

/** How often a live run is polled without signals: from `minMs`, doubling while nothing changes, up to `maxMs`. */
export type PollIntervals = { minMs: number; maxMs: number };

export const DEFAULT_POLL_INTERVALS: PollIntervals = {
  minMs: 1000,
  maxMs: 10_000,
};

/**
 * With signals, the backend pushes every change of the run and the page reads it then; it still
 * reads a live run this often, in case a signal was lost (a reconnecting socket).
 */
export const SIGNALLED_POLL_MS = 30_000;

export type LiveRun = {
  run?: RunDetail;
  /** The last failed fetch; a live run keeps being read through transient errors. */
  error?: Error;
  loading: boolean;
  /** Whether changes are pushed (signals) rather than polled for. */
  pushed: boolean;
  /** Fetch now and poll from the shortest interval again, e.g. after an abort. */
  refresh: () => void;
};

/**
 * A run, kept current while it is live. The backend signals every change on the run's channel
 * and each signal reads the run again (signals that arrive during a read cost one more read, not
 * one each), so a probe chart grows as the agent writes samples. Without the signals plugin it
 * polls instead, backing off while nothing changes (a run that sits in Running for minutes costs
 * a request every 10 s, not every second) and starting over at the shortest interval on any change.
 * Polling stops once the phase is terminal.
 */
export function useLiveRun(
  runId: string,
  intervals: PollIntervals = DEFAULT_POLL_INTERVALS,
): LiveRun {
  const api = useApi(chaosApiRef);
  const { lastSignal, isSignalsAvailable } = useSignal<ChaosRunSignal>(
    runSignalChannel(runId),
  );
  const [state, setState] = useState<{
    run?: RunDetail;
    error?: Error;
    loading: boolean;
  }>({ loading: true });
  const [generation, setGeneration] = useState(0);
  const kick = useRef<(() => void) | undefined>(undefined);
  const { minMs, maxMs } = intervals;

  useEffect(() => {
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let delay = minMs;
    let lastSeen: string | undefined;
    let haveRun = false;
    let reading = false;
    let readAgain = false;

    const next = (live: boolean) => {
      if (timer) clearTimeout(timer);
      timer = live
        ? setTimeout(read, isSignalsAvailable ? SIGNALLED_POLL_MS : delay)
        : undefined;
    };

    async function read(): Promise<void> {
      if (reading) {
        readAgain = true;
        return;
      }
      reading = true;
      let live = false;
      try {
        const run = await api.getRun(runId);
        if (cancelled) return;
        const update = haveRun;
        haveRun = true;
        live = !isTerminalPhase(run.phase);
        const seen = JSON.stringify(run);
        if (seen !== lastSeen) {
          lastSeen = seen;
          delay = minMs;
          // A change of a run already shown is drawn as a transition: React renders it in slices
          // and keeps the page responsive (scrolling, the Abort button) while signals stream in.
          if (update) startTransition(() => setState({ run, loading: false }));
          else setState({ run, loading: false });
        } else {
          delay = Math.min(delay * 2, maxMs);
          setState(s => (s.error ? { run: s.run, loading: false } : s));
        }
      } catch (error) {
        if (cancelled) return;
        setState(s => ({ run: s.run, error: error as Error, loading: false }));
        // Only a run we have seen is worth retrying: a first 404 or 403 will not heal.
        live = haveRun;
        delay = Math.min(delay * 2, maxMs);
      } finally {
        reading = false;
      }
      if (readAgain) {
        readAgain = false;
        void read();
        return;
      }
      next(live);
    }

    kick.current = () => {
      delay = minMs;
      void read();
    };
    void read();
    return () => {
      cancelled = true;
      kick.current = undefined;
      if (timer) clearTimeout(timer);
    };
  }, [api, runId, minMs, maxMs, generation, isSignalsAvailable]);

  // Every signal is a change: read the run now.
  useEffect(() => {
    if (lastSignal) kick.current?.();
  }, [lastSignal]);

  useEffect(() => setState({ loading: true }), [runId]);

  const refresh = useCallback(() => setGeneration(g => g + 1), []);
  return { ...state, pushed: isSignalsAvailable, refresh };
}
