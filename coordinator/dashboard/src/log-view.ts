/**
 * The log panel: one job's build log, live, through an EventSource on
 * `api/jobs/<jobId>/log` (the server replays the log from its first chunk, then follows it).
 * Text is appended as Text nodes; the view follows the end while the reader is at the end and
 * stays put when they scrolled up. The EventSource is closed on `end` and `problem` (a
 * reconnect would replay everything) and whenever another job's log is opened or the panel closed.
 */
import type { DashboardLogChunk, DashboardProblem } from '../../src/adapters/dashboard/api-types.js';
import { byId } from './dom.js';

/** Past this many characters the oldest half of the shown log is dropped (the browser stays responsive). */
const MAX_CHARS = 2_000_000;

export class LogView {
  private source: EventSource | undefined;
  private epoch = 0;
  private chars = 0;
  private readonly panel = byId<HTMLElement>('log-panel');
  private readonly pre = byId<HTMLPreElement>('log');
  private readonly heading = byId<HTMLHeadingElement>('log-heading');
  private readonly status = byId<HTMLElement>('log-status');

  constructor() {
    byId<HTMLButtonElement>('log-close').addEventListener('click', () => this.close());
  }

  /** The job whose log is shown, if any. */
  jobId: string | undefined;

  open(jobId: string, name: string): void {
    this.stop();
    this.jobId = jobId;
    this.epoch = 0;
    this.chars = 0;
    this.pre.replaceChildren();
    this.pre.dataset['jobId'] = jobId;
    this.heading.textContent = `Log of ${name}`;
    this.setStatus('connecting', 'connecting…');
    this.panel.hidden = false;
    const source = new EventSource(`api/jobs/${encodeURIComponent(jobId)}/log`);
    this.source = source;
    source.addEventListener('open', () => this.setStatus('live', 'live'));
    source.addEventListener('chunk', (e) => this.onChunk(JSON.parse((e as MessageEvent<string>).data) as DashboardLogChunk));
    source.addEventListener('end', () => {
      this.stop();
      this.setStatus('complete', 'complete: the attempt has ended');
    });
    source.addEventListener('problem', (e) => {
      const p = JSON.parse((e as MessageEvent<string>).data) as DashboardProblem;
      this.stop();
      this.setStatus('problem', p.message);
    });
    source.addEventListener('error', () => {
      // EventSource reconnects by itself; the server then replays the log from the start.
      if (source.readyState === EventSource.CONNECTING) {
        this.setStatus('connecting', 'reconnecting…');
        this.pre.replaceChildren();
        this.epoch = 0;
        this.chars = 0;
      }
    });
    this.panel.scrollIntoView({ block: 'nearest' });
  }

  close(): void {
    this.stop();
    this.jobId = undefined;
    this.panel.hidden = true;
  }

  private stop(): void {
    this.source?.close();
    this.source = undefined;
  }

  private setStatus(state: string, text: string): void {
    this.status.dataset['state'] = state;
    this.status.textContent = text;
  }

  private onChunk(c: DashboardLogChunk): void {
    const atEnd = this.pre.scrollTop + this.pre.clientHeight >= this.pre.scrollHeight - 8;
    if (c.epoch !== this.epoch) {
      if (this.epoch !== 0) this.appendLine(`── attempt ${c.epoch} ──`, 'marker');
      this.epoch = c.epoch;
    }
    if (c.text !== '') {
      this.pre.appendChild(document.createTextNode(c.text));
      this.chars += c.text.length;
    }
    if (c.truncated) this.appendLine('── the log limit was reached here; the build fails ──', 'marker');
    if (this.chars > MAX_CHARS) this.dropOldest();
    if (atEnd) this.pre.scrollTop = this.pre.scrollHeight;
  }

  private appendLine(text: string, cls: string): void {
    const last = this.pre.lastChild?.textContent ?? '';
    const span = document.createElement('span');
    span.className = cls;
    span.textContent = `${last === '' || last.endsWith('\n') ? '' : '\n'}${text}\n`;
    this.pre.appendChild(span);
  }

  private dropOldest(): void {
    while (this.chars > MAX_CHARS / 2 && this.pre.firstChild !== null) {
      this.chars -= this.pre.firstChild.textContent?.length ?? 0;
      this.pre.removeChild(this.pre.firstChild);
    }
    this.pre.insertBefore(document.createTextNode('… (earlier output dropped from this view)\n'), this.pre.firstChild);
  }
}
