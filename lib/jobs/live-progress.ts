import { recordRunEvidence } from '../services/runs';

/**
 * What a run is doing right now, written to its row for the page to poll: the current phase or
 * statement and log lines. Writes go one after another (never out of order), at most about four
 * a second; the latest state is written when the window ends, so a long statement still shows.
 */
export class LiveProgress {
  readonly lines: string[] = [];
  /** The latest phase given (written or still waiting for its window): what a Cancel records the run was doing. */
  phase: string | null = null;
  private written = Promise.resolve();
  private lastWrite = 0;
  private percent = 0;
  private latest: { phase: string; result: object } | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly runId: string) {}

  /** A log line, kept (the last 500) with its time and written with the next update. */
  log(line: string) {
    this.lines.push(`${new Date().toISOString().slice(11, 23)} ${line}`);
    if (this.lines.length > 500) this.lines.shift();
  }

  /**
   * The run's phase, percent (undefined keeps the last) and partial result so far (the page shows
   * it while the run goes on); `force` writes now instead of at the end of the window.
   */
  update(phase: string, percent: number | undefined, result: object, force = false) {
    if (percent !== undefined) this.percent = percent;
    this.phase = phase.slice(0, 300);
    this.latest = { phase, result };
    const wait = 250 - (Date.now() - this.lastWrite);
    if (force || wait <= 0) return this.write();
    this.timer ??= setTimeout(() => this.write(), wait);
  }

  private write() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!this.latest) return;
    const { phase, result } = this.latest;
    this.latest = null;
    this.lastWrite = Date.now();
    const snapshot = { ...result, log: [...this.lines] };
    const percent = this.percent;
    this.written = this.written.then(() => recordRunEvidence(this.runId, phase.slice(0, 300), percent, snapshot)).catch(() => undefined);
  }

  /** Drops what is not written yet (the final result supersedes it) and waits for the writes under way. */
  flush() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.latest = null;
    return this.written;
  }
}
