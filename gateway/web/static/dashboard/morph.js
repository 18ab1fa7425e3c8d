/**
 * Update a view on screen in place from a new drawing of it (a live answer): the nodes that
 * match stay the same nodes, with their text and attributes updated, so focus, hover, scroll
 * and open tooltips survive, and each chart keeps its canvas and gets the new data; only what
 * has no match is added or removed.
 *
 * Two elements match when they have the same tag and the same identity (IDENTITY: the id,
 * the data-* keys of rows, cards and cells, an input's name and value); text matches text.
 * A list whose order changed keeps its rows and moves them. An element keeps its own event
 * listeners: the views attach listeners whose targets are named by these keys only (a row's
 * View button opens that row's item), so a matched element's listeners stay right.
 *
 * Example: morph(byId('view'), drawing) where drawing is a detached <div> rendered by the
 * same view function from the new answer.
 */

import {carryChart} from './charts.js';

const IDENTITY = ['id', 'name', 'type', 'value', 'data-app', 'data-program', 'data-key',
  'data-path', 'data-start', 'data-field', 'data-order'];

/** The key two nodes must share to be the same node of the view. */
function keyOf(node) {
  if (node.nodeType !== Node.ELEMENT_NODE) return `#${node.nodeType}`;
  return [node.tagName, ...IDENTITY.map((name) => node.getAttribute(name) ?? '')].join('\u0000');
}

function patchAttributes(shown, drawn) {
  for (const {name} of [...shown.attributes]) {
    if (!drawn.hasAttribute(name)) shown.removeAttribute(name);
  }
  for (const {name, value} of [...drawn.attributes]) {
    if (shown.getAttribute(name) !== value) shown.setAttribute(name, value);
  }
}

/**
 * Make `shown` look like `drawn`.
 * @returns {Node} The node now standing for `drawn`: `shown`, or `drawn` itself when `shown`
 *   cannot become it (a chart of another type).
 */
function patch(shown, drawn) {
  if (shown.nodeType !== Node.ELEMENT_NODE) {
    if (shown.nodeValue !== drawn.nodeValue) shown.nodeValue = drawn.nodeValue;
    return shown;
  }
  if (shown.tagName === 'CANVAS') {
    // Chart.js sizes its canvas (width, height, style): only the label is the view's.
    if (!carryChart(shown, drawn)) return drawn;
    for (const name of ['aria-label', 'role']) {
      if (shown.getAttribute(name) !== drawn.getAttribute(name)) shown.setAttribute(name, drawn.getAttribute(name));
    }
    return shown;
  }
  patchAttributes(shown, drawn);
  if (shown.tagName === 'INPUT' && shown.checked !== drawn.checked) shown.checked = drawn.checked;
  morph(shown, drawn);
  return shown;
}

/**
 * Make the children of `shown` (on screen) those of `drawn` (a new drawing, emptied).
 * @param {Element} shown
 * @param {Element} drawn
 */
export function morph(shown, drawn) {
  const unused = new Map();
  for (const node of shown.childNodes) {
    const key = keyOf(node);
    if (!unused.has(key)) unused.set(key, []);
    unused.get(key).push(node);
  }
  let index = 0;
  for (const node of [...drawn.childNodes]) {
    const match = unused.get(keyOf(node))?.shift();
    const kept = match ? patch(match, node) : node;
    if (match && kept !== match) match.remove();
    const here = shown.childNodes[index] ?? null;
    if (kept !== here) shown.insertBefore(kept, here);
    index += 1;
  }
  for (const nodes of unused.values()) {
    for (const node of nodes) node.remove();
  }
}
