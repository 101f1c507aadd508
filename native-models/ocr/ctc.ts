/**
 * Reading a CTC recogniser's output (Graves et al., "Connectionist Temporal Classification",
 * ICML 2006): per time step a distribution over the alphabet plus a blank. Greedy (best-path)
 * decoding takes the most likely class at each step, merges runs of the same class, and drops
 * the blanks — so "ll" in "Hello" survives only because a blank separates the two runs. A
 * character's step also says roughly where it is along the line, which gives word boxes.
 */

/** One decoded character: its text, the step where its run starts, and its probability there. */
export interface CtcChar {
  text: string;
  step: number;
  /** The last step of its run. */
  endStep: number;
  prob: number;
}

export interface CtcLine {
  text: string;
  /** Mean probability of the decoded characters (0 when nothing was read). */
  score: number;
  chars: CtcChar[];
}

/**
 * The classes of a PaddleOCR recogniser: index 0 is the blank, then the dictionary's lines in
 * order, then a space (models trained with `use_space_char`). Throws when the model's class
 * count does not fit, which means the dictionary is not the model's.
 */
export function ctcAlphabet(dictionary: string, classes: number): string[] {
  const lines = dictionary.split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  const alphabet = ['', ...lines, ' '];
  if (alphabet.length !== classes) {
    throw new RangeError(`the dictionary has ${lines.length} characters, so ${lines.length + 2} classes with blank and space; the model has ${classes}`);
  }
  return alphabet;
}

/**
 * Greedy CTC decoding of one sequence: `probs` holds `steps × classes` values from `offset`;
 * only the first `validSteps` are read (the rest look at padding).
 */
export function ctcGreedyDecode(probs: Float32Array, offset: number, steps: number, classes: number, alphabet: readonly string[], validSteps = steps): CtcLine {
  const chars: CtcChar[] = [];
  let prev = -1;
  const n = Math.min(steps, validSteps);
  for (let t = 0; t < n; t++) {
    const base = offset + t * classes;
    let best = 0;
    let bestP = probs[base]!;
    for (let c = 1; c < classes; c++) {
      const p = probs[base + c]!;
      if (p > bestP) {
        bestP = p;
        best = c;
      }
    }
    if (best !== 0 && best !== prev) {
      chars.push({ text: alphabet[best] ?? '', step: t, endStep: t, prob: bestP });
    } else if (best !== 0 && best === prev) {
      const last = chars[chars.length - 1]!;
      last.endStep = t;
      // A character's probability is its most confident step.
      if (bestP > last.prob) last.prob = bestP;
    }
    prev = best;
  }
  // Spaces at either end say nothing and would make empty words.
  while (chars.length && chars[0]!.text === ' ') chars.shift();
  while (chars.length && chars[chars.length - 1]!.text === ' ') chars.pop();
  const score = chars.length ? chars.reduce((s, c) => s + c.prob, 0) / chars.length : 0;
  return { text: chars.map((c) => c.text).join(''), score, chars };
}

/** A word of a decoded line: its text, its extent in steps (fractional), its mean probability. */
export interface CtcWord {
  text: string;
  start: number;
  end: number;
  score: number;
}

/**
 * Splits a decoded line into words: at the spaces the model read, and where two characters lie
 * more than `gapSteps` apart (two labels the detector joined into one line without the model
 * reading a space between them, e.g. adjacent Chinese menu titles). A word reaches halfway to
 * its neighbours' characters, and to the line's ends (step 0 and `validSteps`) at the edges.
 * `breakBetween` may split words elsewhere too: where the image shows a space the model missed.
 */
export function ctcWords(line: CtcLine, validSteps: number, gapSteps: number, breakBetween?: (a: CtcChar, b: CtcChar) => boolean): CtcWord[] {
  const groups: CtcChar[][] = [];
  let cur: CtcChar[] = [];
  for (const c of line.chars) {
    if (c.text === ' ') {
      if (cur.length) groups.push(cur);
      cur = [];
      continue;
    }
    const last = cur[cur.length - 1];
    if (last && (c.step - last.endStep > gapSteps || breakBetween?.(last, c))) {
      groups.push(cur);
      cur = [];
    }
    cur.push(c);
  }
  if (cur.length) groups.push(cur);
  const centre = (c: CtcChar) => (c.step + c.endStep + 1) / 2;
  return groups.map((g, i) => {
    const first = g[0]!;
    const last = g[g.length - 1]!;
    const before = groups[i - 1]?.at(-1);
    const after = groups[i + 1]?.[0];
    const start = before ? (centre(before) + centre(first)) / 2 : 0;
    const end = after ? (centre(last) + centre(after)) / 2 : validSteps;
    return { text: g.map((c) => c.text).join(''), start, end, score: g.reduce((s, c) => s + c.prob, 0) / g.length };
  });
}

/** The highest probability of class `cls` over steps `from`..`to` (inclusive) of a sequence at `offset`. */
export function maxClassProb(probs: Float32Array, offset: number, classes: number, cls: number, from: number, to: number): number {
  let m = 0;
  for (let t = from; t <= to; t++) m = Math.max(m, probs[offset + t * classes + cls] ?? 0);
  return m;
}
