/** How numbers, times and actions read on the page. */
import type { Action } from '../common/actions.ts';
import { assertNever } from '../common/assert.ts';
import type { SpacePoint } from '../common/coords.ts';

const pad = (n: number) => String(n).padStart(2, '0');

/** `2025-10-09 14:03:07` in local time. */
export function dateTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** `14:03:07` in local time. */
export function clock(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** `640 ms`, `4.2 s`, `1 min 35 s`, `2 h 5 min`. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s - m * 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export const shortId = (id: string) => id.slice(0, 8);

export const round = (n: number) => Math.round(n * 10) / 10;

/** The arguments of an action besides its type and instruction, in words. */
export function actionArguments(a: Action): string[] {
  const out: string[] = [];
  const at = (p: SpacePoint | undefined, word: string) => {
    if (p) out.push(`${word} (${round(p.x)}, ${round(p.y)}) ${p.space}`);
  };
  switch (a.action_type) {
    case 'click':
    case 'double_click':
    case 'right_click':
    case 'move':
      at(a.point, 'at');
      break;
    case 'drag':
      at(a.point, 'at');
      at(a.end_point, 'to');
      break;
    case 'long_press':
      if (a.duration_ms !== undefined) out.push(duration(a.duration_ms));
      at(a.point, 'at');
      break;
    case 'select':
      if (a.value !== undefined) out.push(`value ${JSON.stringify(a.value)}`);
      at(a.point, 'at');
      break;
    case 'scroll':
      out.push(a.amount ? `${a.direction} ×${a.amount}` : a.direction);
      at(a.point, 'at');
      break;
    case 'type':
    case 'input_text':
      out.push(JSON.stringify(a.text));
      at(a.point, 'at');
      break;
    case 'hotkey':
    case 'key':
      out.push(a.keys.join('+'));
      at(a.point, 'at');
      break;
    case 'open_app':
      if (a.app) out.push(a.app);
      break;
    case 'wait':
      if (a.duration_ms !== undefined) out.push(duration(a.duration_ms));
      break;
    case 'finished':
      if (a.answer !== undefined) out.push(`answer ${JSON.stringify(a.answer)}`);
      break;
    case 'tool_call':
      out.push(`${a.tool.name}(${JSON.stringify(a.tool.arguments)})`);
      break;
    case 'call_user':
    case 'fail':
    case 'navigate_home':
    case 'navigate_back':
    case 'navigate_recent':
      break;
    default:
      return assertNever(a, 'action');
  }
  return out;
}
