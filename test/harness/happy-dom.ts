/**
 * A browser-like global scope for the renderer's component tests (node --test, no browser):
 * happy-dom's window, document and DOM classes as globals. Import it FIRST in a test file —
 * Testing Library reads `document` when it is loaded.
 */
import { Window } from 'happy-dom';

const win = new Window({ url: 'http://127.0.0.1:4321/', width: 1280, height: 900 });
const scope = globalThis as unknown as Record<string, unknown>;
const source = win as unknown as Record<string, unknown>;

// Node's own globals (timers, fetch, URL, EventTarget, AbortController…) stay; what only a
// browser has (document, HTMLElement, HashChangeEvent, localStorage…) comes from happy-dom.
for (const key of Object.getOwnPropertyNames(win)) {
  if (key in scope) continue;
  try {
    scope[key] = source[key];
  } catch {
    // a getter that needs a window `this`
  }
}
scope.window = win;
scope.document = win.document;
scope.navigator = win.navigator;
// React's act() warnings are for test environments that say they are one.
scope.IS_REACT_ACT_ENVIRONMENT = true;

export const happyWindow = win;
