import { describeAction, type Forecast } from '../../common/actions.ts';
import type { AgentEvent } from '../agent/loop.ts';

export function formatForecast(f: Forecast, indent = ''): string {
  return f.steps.map((s, i) => `${indent}${i + 1}. ${describeAction(s.action)}${s.status === 'done' ? '  [done]' : ''}`).join('\n');
}

const pt = (p: { x: number; y: number } | undefined) => (p ? ` at (${Math.round(p.x)}, ${Math.round(p.y)})` : '');

const SETTLE_METHOD = { damage: 'X damage events', pixels: 'equal captures' } as const;

function speculation(e: Extract<AgentEvent, { type: 'observation' }>): string {
  const parts = [e.speculative ? 'planner asked before the settle' : '', e.cancelledRequests > 0 ? `${e.cancelledRequests} request(s) on earlier frames cancelled` : ''];
  const said = parts.filter(Boolean).join('; ');
  return said ? `; ${said}` : '';
}

/** One or more human-readable lines for an agent event. */
export function formatEvent(e: AgentEvent): string {
  switch (e.type) {
    case 'episode_start':
      return `Episode ${e.episodeId}: ${e.task}`;
    case 'observation':
      return `\nStep ${e.step}: observed ${e.frameId.slice(0, 12)}${e.settle ? ` (settled ${e.settle.settled ? 'yes' : 'NO'} after ${Math.round(e.settle.waitedMs)} ms${e.settle.method ? `, ${SETTLE_METHOD[e.settle.method]}` : ''})` : ''}${speculation(e)}`;
    case 'stale':
      return `  STALE: not executed, the screen changed after this forecast's frame (${e.what}); observing again (${e.inARow} in a row)`;
    case 'forecast':
      return `  forecast (attempt ${e.attempt}, ${Math.round(e.latencyMs)} ms):\n${formatForecast(e.forecast, '    ')}`;
    case 'parse_error':
      return `  malformed answer (attempt ${e.attempt}): ${e.error.message}`;
    case 'grounding':
      return e.grounding
        ? `  grounded step ${e.index + 1}${pt(e.grounding.point)} by ${e.grounding.grounder} (${e.grounding.confidence.toFixed(2)}${e.grounding.detail ? `, "${e.grounding.detail}"` : ''})`
        : `  grounding step ${e.index + 1} failed: ${e.error?.message ?? ''}`;
    case 'review':
      return `  ${e.decision}${e.reason ? `: ${e.reason}` : ''}`;
    case 'action':
      return `  ${e.result === 'ok' ? 'did' : e.result === 'stopped' ? 'STOPPED' : 'FAILED'} ${e.description}${pt(e.target.globalPoint)} (${Math.round(e.durationMs)} ms)${e.error ? `: ${e.error.message}` : ''}`;
    case 'episode_end':
      return `\nEpisode ${e.episodeId} ${e.status} after ${e.steps} steps${e.answer !== undefined ? `; answer: ${e.answer}` : ''}${e.error ? `\n  ${e.error.code}: ${e.error.message}` : ''}\n  speculation: ${e.cancelledRequests} request(s) cancelled, ${e.staleForecasts} stale forecast(s)`;
  }
}
