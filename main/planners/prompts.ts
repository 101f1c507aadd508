/**
 * Prompt templates. Each has an id and a version that the store records with every forecast,
 * so the exact model input can be rebuilt for training (ROADMAP 3). Change the text → bump
 * the version.
 */
import { ACTION_TYPES } from '../../common/actions.ts';
import type { HistoryEntry, Mark } from '../../common/ports.ts';

export interface PromptInput {
  instruction: string;
  history: readonly HistoryEntry[];
  horizon: number;
  feedback?: string;
  /** Set-of-Marks drawn on the screenshot (templates with a `-som` variant list them). */
  marks?: readonly Mark[];
}

export interface PromptTemplate {
  id: string;
  version: string;
  system(input: PromptInput): string;
  user(input: PromptInput): string;
}

export function historyText(history: readonly HistoryEntry[]): string {
  if (history.length === 0) return 'No previous steps.';
  return history.map((h) => `Step ${h.step}: ${h.action} → ${h.outcome}`).join('\n');
}

function feedbackText(feedback: string | undefined): string {
  return feedback ? `\n\nYour previous answer could not be used: ${feedback}\nAnswer again in the required format.` : '';
}

export const TRACER1_TEMPLATE: PromptTemplate = {
  id: 'tracer1-desktop',
  version: '1',
  system: (input) =>
    [
      'You are a GUI agent operating a desktop computer with mouse and keyboard.',
      'You see the current screenshot, the user instruction and the history of past steps.',
      `Plan ahead: forecast the next ${input.horizon} steps (fewer if the task ends sooner). Only the first step will be executed; you will then see the new screen and forecast again.`,
      'Do not give coordinates. Each step_instruction names the target in words, quoting its visible text exactly, e.g. click on \'Save As…\' in the File menu.',
      '',
      'Think inside <think></think>, then answer inside <answer></answer> with one line per step:',
      'Step 1: "screenshot_abstraction": "<what the screen shows before this step>", "action": {"action_type": "<type>", "step_instruction": "<what to do, on what>"}, "status": "not done"',
      'Use "status": "done" on the step after which the task is complete.',
      '',
      `action_type is one of: ${ACTION_TYPES.filter((a) => a !== 'tool_call').join(', ')}.`,
      'Extra fields inside "action": "text" for type (the exact text to type), "keys" for hotkey and key (e.g. ["ctrl", "s"]), "direction" and "amount" for scroll, "answer" for finished, "app" for open_app, "duration_ms" for wait.',
      'End with finished when the task is complete, call_user when a person must decide, fail when it cannot be done.',
    ].join('\n'),
  user: (input) =>
    [
      `Instruction: ${input.instruction}`,
      '',
      'History:',
      historyText(input.history),
      '',
      `Forecast the next ${input.horizon} steps for the current screenshot.${feedbackText(input.feedback)}`,
    ].join('\n'),
};

/**
 * UI-TARS-1.5 computer-use convention: one step per answer, coordinates in pixels of the
 * smart-resized image the model saw (converted back by the parser).
 */
export const UITARS15_TEMPLATE: PromptTemplate = {
  id: 'uitars-1.5-computer',
  version: '1',
  system: () =>
    [
      'You are a GUI agent. You are given a task, your action history and a screenshot. Perform the next action to complete the task.',
      '',
      '## Output Format',
      'Thought: ...',
      'Action: ...',
      '',
      '## Action Space',
      "click(start_box='<|box_start|>(x1,y1)<|box_end|>')",
      "left_double(start_box='<|box_start|>(x1,y1)<|box_end|>')",
      "right_single(start_box='<|box_start|>(x1,y1)<|box_end|>')",
      "drag(start_box='<|box_start|>(x1,y1)<|box_end|>', end_box='<|box_start|>(x3,y3)<|box_end|>')",
      "hotkey(key='ctrl c')",
      "type(content='') # end content with \\n to submit",
      "scroll(start_box='<|box_start|>(x1,y1)<|box_end|>', direction='down or up or right or left')",
      'wait()',
      "finished(content='xxx') # escape \\' \\\" and \\n inside content",
      '',
      '## Note',
      '- Use English in the Thought part.',
      '- Write a small plan and summarize your next action (with its target element) in one sentence in the Thought part.',
    ].join('\n'),
  user: (input) =>
    [
      '## User Instruction',
      input.instruction,
      '',
      '## History',
      historyText(input.history),
      feedbackText(input.feedback),
    ].join('\n'),
};

/** Marks listed in a prompt at most; a screen with more is a wall of numbers no model reads. */
export const MAX_LISTED_MARKS = 300;

/** The marks as a prompt lists them: `mark 3: "Save"`, `mark 4: icon` (no text). */
export function marksText(marks: readonly Mark[]): string {
  const lines = marks.slice(0, MAX_LISTED_MARKS).map((m) => `mark ${m.id}: ${m.text !== undefined ? JSON.stringify(m.text) : (m.label ?? 'element')}`);
  if (marks.length > MAX_LISTED_MARKS) lines.push(`(and ${marks.length - MAX_LISTED_MARKS} more marks, numbered on the screenshot)`);
  return lines.length ? lines.join('\n') : 'No marks on this screenshot.';
}

/**
 * TraceR1 with Set-of-Marks (the prototype's screenshots carry numbered marks too): the same
 * prompt, told that the screenshot is marked and that a step may name a mark, with the list of
 * marks and the text each carries. Chosen by a planner when the request has marks.
 */
export const TRACER1_SOM_TEMPLATE: PromptTemplate = {
  id: 'tracer1-desktop-som',
  version: '1',
  system: (input) =>
    [
      TRACER1_TEMPLATE.system(input),
      '',
      'The screenshot carries numbered marks (Set-of-Marks): a coloured box with a number tag on each element found on the screen; the list below the instruction gives the text each mark shows.',
      'A step_instruction may name its target by mark, e.g. "step_instruction": "click mark 12" (drag: "drag mark 3 to mark 7"), or quote the target\'s visible text as before.',
    ].join('\n'),
  user: (input) =>
    [
      `Instruction: ${input.instruction}`,
      '',
      'Marks on the screenshot:',
      marksText(input.marks ?? []),
      '',
      'History:',
      historyText(input.history),
      '',
      `Forecast the next ${input.horizon} steps for the current screenshot.${feedbackText(input.feedback)}`,
    ].join('\n'),
};

export const TEMPLATES: Record<string, PromptTemplate> = {
  [TRACER1_TEMPLATE.id]: TRACER1_TEMPLATE,
  [TRACER1_SOM_TEMPLATE.id]: TRACER1_SOM_TEMPLATE,
  [UITARS15_TEMPLATE.id]: UITARS15_TEMPLATE,
};

/**
 * The Set-of-Marks variant of a template, when it has one. A template without (UI-TARS, which
 * answers with coordinates) keeps the unmarked screenshot: boxes drawn over the targets would
 * only disturb its pointing.
 */
export const SOM_VARIANTS: Readonly<Record<string, PromptTemplate>> = { [TRACER1_TEMPLATE.id]: TRACER1_SOM_TEMPLATE };
