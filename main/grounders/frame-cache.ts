/**
 * The perception of recent frames, by frame id: one reading per frame however often it is
 * perceived or grounded, the least recently used dropped past `size`, a failed reading forgotten
 * so the next call tries again. Shared by the OCR grounders (Tesseract here, PP-OCR in
 * native-models/ocr).
 */
interface Entry<T> {
  promise: Promise<T>;
  result?: T;
}

export class FrameCache<T> {
  private readonly entries = new Map<string, Entry<T>>();
  /** The frame asked about last. */
  private lastId: string | undefined;

  constructor(private readonly size: number) {}

  /** The reading of frame `id`, started with `read` when there is none. */
  get(id: string, read: () => Promise<T>): Promise<T> {
    this.lastId = id;
    const hit = this.entries.get(id);
    if (hit) {
      this.entries.delete(id);
      this.entries.set(id, hit);
      return hit.promise;
    }
    const entry: Entry<T> = { promise: read() };
    entry.promise.then(
      (r) => {
        entry.result = r;
      },
      () => {
        if (this.entries.get(id) === entry) this.entries.delete(id);
      },
    );
    this.entries.set(id, entry);
    while (this.entries.size > this.size) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
    return entry.promise;
  }

  /** A finished reading (of the frame asked about last when no id is given). */
  result(id?: string): T | undefined {
    const key = id ?? this.lastId;
    return key === undefined ? undefined : this.entries.get(key)?.result;
  }

  /** Frame ids cached or being read, least recently used first. */
  ids(): string[] {
    return [...this.entries.keys()];
  }

  clear(): void {
    this.entries.clear();
  }
}
