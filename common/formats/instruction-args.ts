/**
 * Arguments read from a step's words. The TraceR1 prototype's prompt asks each step for only
 * `action_type` and `step_instruction` and puts the rest in the words — "scroll [up/down/left/
 * right] to …", "type '[exact text]' in …", "open [app name] app" — and its grounding agent turns
 * them into the executable action. A reader fills a field the planner did not give from there,
 * so such answers parse and run as the prototype meant them.
 */
import { DIRECTIONS, type Direction } from '../actions.ts';

const DIRECTION_WORD = new RegExp(`\\b(${DIRECTIONS.join('|')})(?:wards?)?\\b`, 'i');

/** The first direction word ("scroll down to reveal …" → down), if any. */
export function directionIn(instruction: string): Direction | undefined {
  const m = DIRECTION_WORD.exec(instruction);
  return m ? (m[1]!.toLowerCase() as Direction) : undefined;
}

const CLOSER: Readonly<Record<string, string>> = { "'": "'", '"': '"', '‘': '’', '“': '”', '«': '»', '`': '`' };
/** What may follow the quoted text: the end, punctuation, or the words that name the field. */
const AFTER_QUOTE = /^\s*(?:$|[,.;:!?)]|(?:in|into|on|at|to|and|then|for|inside|within|as|under|below|above|next)\b)/i;

/**
 * The text quoted in the instruction ("type 'hello world' in the search box" → hello world).
 * The closing quote is the first matching one followed by the end, punctuation or a word like
 * "in", so an apostrophe inside the text ('it's done') does not end it.
 */
export function quotedTextIn(instruction: string): string | undefined {
  for (let i = 0; i < instruction.length; i++) {
    const closer = CLOSER[instruction[i]!];
    if (closer === undefined) continue;
    let fallback: number | undefined;
    for (let j = instruction.indexOf(closer, i + 1); j !== -1; j = instruction.indexOf(closer, j + 1)) {
      if (AFTER_QUOTE.test(instruction.slice(j + 1, j + 40))) return instruction.slice(i + 1, j);
      fallback = j;
    }
    if (fallback !== undefined) return instruction.slice(i + 1, fallback);
    return undefined;
  }
  return undefined;
}

const OPEN_APP = /\b(?:open|launch|start)\s+(?:the\s+)?(.+?)\s+(?:app|application)\b/i;

/**
 * The application named: quoted, or as the prompt writes it ("open Gmail app" → Gmail; "launch
 * the Settings application" → Settings). "open it" names none.
 */
export function appNameIn(instruction: string): string | undefined {
  const quoted = quotedTextIn(instruction);
  if (quoted?.trim()) return quoted.trim();
  const m = OPEN_APP.exec(instruction);
  const name = m?.[1]?.trim();
  return name ? name : undefined;
}
