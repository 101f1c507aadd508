/**
 * The live channel's source: every event of common/contract.ts's EVENTS map, numbered, checked
 * against its schema before it leaves (a bug here is caught here, not in the page), kept in a
 * short ring so that a page that reconnects (`Last-Event-ID`) gets what it missed.
 */
import { EVENTS, describeIssues, type EventName, type EventPayload, type LiveEvent } from '../../common/contract.ts';

/** Enough for a few steps of a run; older than that, a page reloads its state (runs.current). */
const KEEP = 500;

export type Subscriber = (e: LiveEvent) => void;

export class EventHub {
  private seq = 0;
  private readonly ring: LiveEvent[] = [];
  private readonly subscribers = new Set<Subscriber>();

  constructor(private readonly log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)) {}

  /** Checks and sends one event; an event that does not fit its schema is logged and dropped. */
  emit<N extends EventName>(name: N, data: EventPayload<N>): void {
    const checked = EVENTS[name].safeParse(data);
    if (!checked.success) {
      this.log(`foresight app: event ${name} does not fit the contract: ${describeIssues(checked.error)}`);
      return;
    }
    const e = { seq: ++this.seq, name, data: checked.data } as LiveEvent;
    this.ring.push(e);
    if (this.ring.length > KEEP) this.ring.shift();
    for (const s of this.subscribers) {
      try {
        s(e);
      } catch (err) {
        this.log(`foresight app: a live subscriber failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }

  /** Events after `lastSeq` still held (all held when undefined is given: none). */
  since(lastSeq: number | undefined): LiveEvent[] {
    if (lastSeq === undefined) return [];
    return this.ring.filter((e) => e.seq > lastSeq);
  }

  subscribe(s: Subscriber): () => void {
    this.subscribers.add(s);
    return () => this.subscribers.delete(s);
  }

  get lastSeq(): number {
    return this.seq;
  }
}
